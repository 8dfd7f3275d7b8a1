"""Binary core images: one core's configuration packed at its exact bit widths.

An image holds what one core holds (``CoreConfig``: neuron parameters, synapse memory,
routing table, LFSR seed), the ``CoreSpec`` needed to read it back, the core's id and
the mesh it sits on; the layout, bit by bit, is in ``docs/images.md``.

* ``layout``: header fields, codes, ``BodyWidths`` and image sizes;
* ``encoding``: ``encode_core`` and ``CoreImage``; ``decoding``: ``decode_core``;
* ``chip_images``: ``write_chip_images`` / ``load_chip`` store and boot a whole chip
  (one image per core plus a JSON manifest);
* ``describe``: ``describe_image``, the readable dump behind ``neurochip inspect`` and
  ``python -m neurochip.formats.image IMAGE...``.
"""

from .chip_images import load_chip, load_chip_configs, write_chip_images
from .decoding import decode_core
from .describe import describe_image, main
from .encoding import CoreImage, encode_core, same_config
from .layout import (HEADER, HEADER_BITS, MAGIC, MAX_IMAGE_BITS, VERSION, BodyWidths,
                     ImageError, body_widths, image_size_bits)

__all__ = ["CoreImage", "ImageError", "HEADER", "HEADER_BITS", "MAGIC", "MAX_IMAGE_BITS",
           "VERSION", "BodyWidths", "body_widths", "decode_core", "describe_image",
           "encode_core", "image_size_bits", "load_chip", "load_chip_configs", "main",
           "same_config", "write_chip_images"]
