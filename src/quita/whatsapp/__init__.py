"""WhatsApp Cloud API channel: client, webhooks, templates and simulator."""
