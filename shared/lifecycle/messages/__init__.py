"""Messages: channels (e-mail, SMS) and composing a message for one delivery."""
