"""Data: Omniglot and its episodes, Lake et al.'s one-shot runs, synthetic glyphs, user images, sine tasks."""
