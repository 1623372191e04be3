"""A local, faithful simulator of the WhatsApp Cloud API (and later a Pix PSP) for demos and tests."""
