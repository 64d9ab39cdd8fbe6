"""corrigenda: documents in, self-correction training data out."""

__version__ = "0.1.0"
