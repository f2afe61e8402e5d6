"""Where alerts come from: IMAP mailboxes, the Maildir drop folder and webhooks. All of them hand
what they receive to `alerts.services.ingest_messages`."""
