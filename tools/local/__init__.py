"""The backend on one machine, driven by template.yaml: storage provisioned into moto, functions run
in-process and wired the way the template wires them (EventBridge rules, SQS event source mappings)."""
