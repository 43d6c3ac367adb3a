"""WeCom (企业微信) application messages: one person reached by their WeCom user id."""

CHANNEL = "wecom"
