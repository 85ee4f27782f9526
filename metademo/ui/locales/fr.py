"""The page in fr (see metademo.ui.i18n)."""

STRINGS = {}
ALGORITHMS = {}
