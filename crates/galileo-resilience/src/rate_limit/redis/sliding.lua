-- Tiered sliding-window admission, atomic across every tier of one request.
--
-- KEYS[i]   a sorted set per applicable tier key; all share one hash tag, so a cluster runs the
--           script on one slot. Members are admitted cells, scored by Redis time in µs.
-- ARGV[1]   cost (cells)
-- ARGV[2]   nonce, unique per request (members are "<nonce>:<n>", so requests sharing a
--           microsecond never collide)
-- ARGV[1+2i], ARGV[2+2i]   limit and window (µs) of KEYS[i]
--
-- Returns { allowed (1/0), deciding key index (1-based), limit, remaining,
--           retry_after_us (-1: never fits), reset_us, now_us }.
-- A denial changes nothing anywhere (stale members are only pruned).
-- Redis < 5 needs effects replication to write after the non-deterministic TIME.
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local nonce = ARGV[2]
local best, best_usage, best_limit, best_remaining = 1, -1, 0, 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local used = redis.call('ZCARD', KEYS[i])
  if used + cost > limit then
    local reset = 0
    local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
    if newest[2] then reset = tonumber(newest[2]) + window - now end
    local left = limit - used
    if left < 0 then left = 0 end
    if cost > limit then return {0, i, limit, left, -1, reset, now} end
    local need = used + cost - limit
    local oldest = redis.call('ZRANGE', KEYS[i], need - 1, need - 1, 'WITHSCORES')
    return {0, i, limit, left, tonumber(oldest[2]) + window - now, reset, now}
  end
  local usage = (used + cost) / limit
  if usage > best_usage then
    best, best_usage, best_limit, best_remaining = i, usage, limit, limit - used - cost
  end
end
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 + 2 * i])
  for n = 1, cost do
    redis.call('ZADD', KEYS[i], now, nonce .. ':' .. n)
  end
  redis.call('PEXPIRE', KEYS[i], math.floor(window / 1000) + 1)
end
return {1, best, best_limit, best_remaining, 0, tonumber(ARGV[2 + 2 * best]), now}
