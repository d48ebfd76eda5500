"""The transparency log: every accepted signed document as an RFC 6962 leaf."""
