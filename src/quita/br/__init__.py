"""Brazilian primitives (documents, phones, money, dates, places, text) as pure functions."""
