"""Pure WhatsApp Cloud API logic: payload builders, webhook normalisation, signatures, error classes.

Nothing here does I/O, so the HTTP client, the simulator, the webhook receiver and the dispatcher can all
share one definition of what Meta sends and accepts.
"""
