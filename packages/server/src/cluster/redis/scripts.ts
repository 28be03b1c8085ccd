/**
 * Lua scripts: each is one atomic step on the live cluster state, so two nodes deciding at the same
 * instant see each other's effect (Redis runs scripts one at a time). Keys are built from the
 * prefix inside the scripts because the device's session id is only known once its entry is read;
 * OpenCall targets a single Redis (or a primary with replicas), not Redis Cluster.
 */

/**
 * Appends an event frame (or a close marker) to a device's log and routes it to the device's node.
 * KEYS[1] user hash. ARGV: prefix, deviceId, event JSON ('' for a close marker; it may be followed
 * by `,"eid":"…"`, the event's id, which then becomes a member of the frame), sender node id,
 * close code ('' for an event), replay length.
 * Returns {} when the device has no entry, else { seq, node, sid, frame }.
 */
export const APPEND = `
local e = redis.call('HGET', KEYS[1], ARGV[2])
if not e then return {} end
local d = cjson.decode(e)
local base = ARGV[1] .. 's:' .. d.sid
local seq = redis.call('INCR', base .. ':n')
local frame = ''
if ARGV[5] == '' then
  frame = '{"v":1,"type":"event","seq":' .. seq .. ',"event":' .. ARGV[3] .. '}'
  redis.call('XADD', base .. ':log', 'MAXLEN', '~', ARGV[6], seq .. '-0', 'f', frame)
else
  redis.call('XADD', base .. ':log', 'MAXLEN', '~', ARGV[6], seq .. '-0', 'c', ARGV[5])
end
if d.node ~= ARGV[4] then
  local m
  if ARGV[5] == '' then
    m = cjson.encode({ t = 'ev', sid = d.sid, seq = seq, f = frame })
  else
    m = cjson.encode({ t = 'ev', sid = d.sid, seq = seq, c = tonumber(ARGV[5]) })
  end
  redis.call('PUBLISH', ARGV[1] .. 'n:' .. d.node, m)
end
return { seq, d.node, d.sid, frame }
`;

/**
 * Claims a device for this node. KEYS[1] user hash, KEYS[2] this node's device set.
 * ARGV: entry JSON, policy ('kick' | 'multi'), member name (userId \\n deviceId), '1' when the
 * sign-in is an automatic reconnection that could not resume.
 * Under 'kick' every other live entry of the user is marked kicked (the newest sign-in wins even
 * when two nodes sign the user in at once). Returns the other entries' JSON: those marked now
 * (kick) or the live ones (multi); or -1, claiming nothing, for an automatic reconnection under
 * 'kick' when another device of the user is live: that device signed in while this one was away,
 * and replaced it (decided here, atomically, because the sign-in's own look-up may be seconds old
 * after a stalled database).
 */
export const CLAIM = `
local mine = cjson.decode(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
if ARGV[2] == 'kick' and ARGV[4] == '1' then
  for i = 1, #all, 2 do
    if all[i] ~= mine.deviceId and not cjson.decode(all[i + 1]).kicked then return -1 end
  end
end
local out = {}
for i = 1, #all, 2 do
  local dev = all[i]
  if dev ~= mine.deviceId then
    local d = cjson.decode(all[i + 1])
    if not d.kicked then
      if ARGV[2] == 'kick' then
        d.kicked = true
        local j = cjson.encode(d)
        redis.call('HSET', KEYS[1], dev, j)
        table.insert(out, j)
      else
        table.insert(out, all[i + 1])
      end
    end
  end
end
redis.call('HSET', KEYS[1], mine.deviceId, ARGV[1])
redis.call('SADD', KEYS[2], ARGV[3])
return out
`;

/**
 * Marks one entry kicked if it still has session id ARGV[2]. KEYS[1] user hash. ARGV: deviceId, sid.
 * Returns the entry JSON or false.
 */
export const MARK_KICKED = `
local e = redis.call('HGET', KEYS[1], ARGV[1])
if not e then return false end
local d = cjson.decode(e)
if d.sid ~= ARGV[2] then return false end
d.kicked = true
local j = cjson.encode(d)
redis.call('HSET', KEYS[1], ARGV[1], j)
return j
`;

/**
 * Deletes an entry if it still has session id ARGV[3] (and, when ARGV[5] is not empty, is still
 * held by node ARGV[5] incarnation ARGV[6]), with its log and counter. A reaper passes ARGV[7],
 * the last beat it saw of that incarnation: if the node has beaten since (it was frozen, not dead,
 * and may have taken the device back), nothing is deleted and 2 is returned.
 * KEYS[1] user hash. ARGV: prefix, deviceId, sid, member name, node, boot, seen beat ('' for none).
 * Returns 1 when deleted, 0 when not this session's or holder's, 2 when the holder came back.
 */
export const RELEASE = `
if ARGV[7] ~= '' then
  local beat = redis.call('ZSCORE', ARGV[1] .. 'nodes', ARGV[5] .. '|' .. ARGV[6])
  if beat and tonumber(beat) > tonumber(ARGV[7]) then return 2 end
end
local e = redis.call('HGET', KEYS[1], ARGV[2])
if not e then return 0 end
local d = cjson.decode(e)
if d.sid ~= ARGV[3] then return 0 end
if ARGV[5] ~= '' and (d.node ~= ARGV[5] or d.boot ~= ARGV[6]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', ARGV[1] .. 'nd:' .. d.node .. ':' .. d.boot, ARGV[4])
redis.call('DEL', ARGV[1] .. 's:' .. d.sid .. ':n', ARGV[1] .. 's:' .. d.sid .. ':log')
return 1
`;

/**
 * Moves a live (not kicked) entry with session id ARGV[3] to this node (a resume after a reconnect,
 * possibly to another node). KEYS[1] user hash. ARGV: prefix, deviceId, sid, node, boot, member,
 * multi ('1' | '0' | ''). Returns { old entry JSON, current seq } or false.
 */
export const MOVE = `
local e = redis.call('HGET', KEYS[1], ARGV[2])
if not e then return false end
local d = cjson.decode(e)
if d.sid ~= ARGV[3] or d.kicked then return false end
local old = e
redis.call('SREM', ARGV[1] .. 'nd:' .. d.node .. ':' .. d.boot, ARGV[6])
d.node = ARGV[4]
d.boot = ARGV[5]
if ARGV[7] == '1' then d.multi = true elseif ARGV[7] == '0' then d.multi = false end
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(d))
redis.call('SADD', ARGV[1] .. 'nd:' .. ARGV[4] .. ':' .. ARGV[5], ARGV[6])
local n = redis.call('GET', ARGV[1] .. 's:' .. ARGV[3] .. ':n')
return { old, tonumber(n or '0') }
`;

/** Sets `multi` of an entry with session id ARGV[2]. KEYS[1] user hash. ARGV: deviceId, sid, '1' | '0'. */
export const SET_MULTI = `
local e = redis.call('HGET', KEYS[1], ARGV[1])
if not e then return 0 end
local d = cjson.decode(e)
if d.sid ~= ARGV[2] then return 0 end
d.multi = ARGV[3] == '1'
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(d))
return 1
`;

/**
 * Finds or becomes the media owner of a call (the node whose SFU holds its room). KEYS[1] owner
 * key, KEYS[2] the call's claim counter. ARGV: this incarnation (`node|boot`), TTL ms, `node|`.
 * The holder renews its key; a free key, or one left by an earlier incarnation of this same node
 * id, is taken. Returns { holder, n }: n is the claim number when this call took it (1 for the
 * first owner, more for a takeover), else 0.
 */
export const MEDIA_OWN = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return { v, 0 }
end
if (not v) or string.sub(v, 1, #ARGV[3]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local n = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], 86400000)
  return { ARGV[1], n }
end
return { v, 0 }
`;

/**
 * Gives up a call's media ownership if this incarnation holds it. KEYS[1] owner key, KEYS[2]
 * claim counter. ARGV: this incarnation, '1' when the call ended (the counter goes too).
 */
export const MEDIA_RELEASE = `
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
