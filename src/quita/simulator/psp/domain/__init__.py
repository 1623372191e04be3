"""Pure parts of the fake PSP/bank: reading a boleto barcode as its bank would, writing CNAB 240 returns."""
