"""Real time: browsers connected to the WebSocket API hear about their orders as they change."""
