"""Training and evaluation of meta-learners (used by ``python -m metademo.train`` / ``metademo.evaluate``)."""
