"""Quita: lawful, respectful debt collection over WhatsApp for Brazilian creditors."""

__version__ = "0.1.0"
