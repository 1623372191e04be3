"""Pure payment logic (boleto, Pix BR Code, CNAB, amounts): no I/O, no ORM, no framework.

Kept free of side effects so that services, the API and the CLI share one tested source of truth.
"""
