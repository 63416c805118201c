"""The event stream: Server-Sent Events per user and per session (docs/protocol.md)."""
