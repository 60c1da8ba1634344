"""Frontend telemetry: errors, clicks, navigations, web vitals and custom events from the browser."""
