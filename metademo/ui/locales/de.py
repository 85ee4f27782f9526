"""The page in de (see metademo.ui.i18n)."""

STRINGS = {}
ALGORITHMS = {}
