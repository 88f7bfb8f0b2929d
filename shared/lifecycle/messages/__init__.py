"""Messages: the delivery channels (e-mail, SMS) behind one protocol."""
