"""A fake Pix PSP and collecting bank: API Pix (OAuth, cob/cobv, webhooks) and CNAB 240 returns."""
