"""The gallery: drawings of characters the models never saw, for pages and notebooks.

:data:`GALLERY` (a :class:`~metademo.data.gallery.GalleryProvider`, shared and read-only) holds Omniglot's
evaluation characters when they are on this machine, else synthetic glyphs, and finds out in a background
thread (``GALLERY.start()``; ``GALLERY.kind`` and ``GALLERY.status`` say where it stands). Each character
has :data:`DRAWINGS` drawings; ``GALLERY.current()`` gives the source to draw from (``pick``, ``name``,
``drawing``) and ``GALLERY.find(name)`` the source of a character met before. A drawing's caption,
:func:`drawing_key`, names its character and its number, which :func:`parse_key` reads back.
"""

from ..data.gallery import DRAWINGS, GalleryProvider, GallerySource, drawing_key, parse_key
from ..data.gallery import PROVIDER as GALLERY

__all__ = ["DRAWINGS", "GALLERY", "GalleryProvider", "GallerySource", "drawing_key", "parse_key"]
