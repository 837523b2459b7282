"""WeChat transport: signatures, message crypto, parsing, reply rendering, API client.

The rest of the project sees only these wrappers, never wechatpy's types.
"""
