"""Django's Redis cache backend, with one Redis client per connection pool.

Django's client builds a new ``redis.Redis`` object for every cache call, which costs about as
much as the network round trip itself; the page cache makes one call on every anonymous request,
so reusing the client is a large share of a cached page's cost. ``redis.Redis`` is safe to share
between threads: each command takes a connection from the pool and gives it back.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
