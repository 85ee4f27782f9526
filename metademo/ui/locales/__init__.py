"""The page's texts in other languages than English, one module per language (``es``, ``fr``, ``de``).

Each module has ``STRINGS`` (key -> text, the keys and ``{placeholders}`` of :func:`metademo.ui.i18n.english`)
and ``ALGORITHMS`` ("field:name" -> the algorithm registry's descriptions). See :mod:`metademo.ui.i18n`.
"""
