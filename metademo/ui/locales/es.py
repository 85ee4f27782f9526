"""The page in es (see metademo.ui.i18n)."""

STRINGS = {}
ALGORITHMS = {}
