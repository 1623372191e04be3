"""Payments: amounts, boleto, Pix and reconciliation of bank returns."""
