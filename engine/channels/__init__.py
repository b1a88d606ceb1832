"""Channels: adapters that deliver a touch (SMS, email, WeChat, push, webhook, Kafka) behind one interface."""
