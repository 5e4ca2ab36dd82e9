"""Revocation's machinery: the in-memory copy, its Redis keyspace and the thread that follows
Redis. Private: the store itself is ``jwtcookie.redis.RedisRevocations``."""
