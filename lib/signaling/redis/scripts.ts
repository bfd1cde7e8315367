/**
 * What Redis holds for several instances, and the Lua scripts that change it:
 * each pairing rule is checked and applied in one script, so two instances
 * can never pair one client twice, and each script publishes what the clients
 * concerned must hear to the instances that hold them. Pure: strings and
 * parsing, no network.
 *
 * Keys (prefix `switchboard:`):
 * - `clients`: hash, client id → the instance that holds it
 * - `tenant`: hash, client id → its key's SHA-256 (`""` for none), while its session lasts
 * - `keycount`: hash, key SHA-256 → its clients (connected or away) in the cluster
 * - `grant`: hash, client id → what its access token grants, as JSON `{"s": sub, "p":
 *   [subs it may pair with]}` (no `p`: anyone in its tenant), while its session lasts
 * - `partner`: hash, client id → partner id (both directions)
 * - `req` / `exp`: hashes, requester → target / expiry (ms, Redis clock)
 * - `in:<target>`: set of the requesters waiting on `target`
 * - `inst:<instance>`: set of the instance's client ids
 * - `instances`: set of live instances; `hb:<instance>`: heartbeat key with a TTL
 * - `sess:<id>`: hash of a resumable session: `tok` (SHA-256 of its token),
 *   `grace` (ms), `maxq` and `maxb` (the queue's bounds), `bytes` (queued)
 * - `tok`: hash, token SHA-256 → session id; `away`: sorted set, id → window end (ms)
 * - `q:<id>`: list of the events waiting for an away client, oldest first; `rq:<id>`: those
 *   that reached its old instance after it had gone, which come first
 * - `revoked`: set of key SHA-256 revoked on some instance
 * - `np:<tenant>:<nameplate>`: the client holding a pairing code's nameplate, with
 *   the code's lifetime as TTL; `nph:<id>`: the `<tenant>:<nameplate>` it holds
 * - `rv:<tenant>:<rendezvous>`: the remembered device waiting there, with a TTL;
 *   `rvh:<id>`: the `<tenant>:<rendezvous>` it waits under
 * - `stats`: hash of counts not yet reported (`overflow`: sessions ended by a full queue)
 * - channel `ch:<instance>`: events for the instance's clients
 *
 * @module
 */

/** The prefix of every key and channel. */
export const PREFIX = "switchboard:";

/** The pub/sub channel of `instance`. */
export function channelOf(instance: string): string {
  return `${PREFIX}ch:${instance}`;
}

/**
 * One event for one client, as published: `to kind peer reason`, or for a
 * relayed message `to m json`.
 */
export type StoreEvent =
  | { to: string; kind: "m"; json: string }
  | { to: string; kind: EventKind; peer: string; reason: string };

/**
 * `r` pair_request from peer; `p` paired with peer (reason `1`: initiator, and
 * a `c` after it when by code: `1c`, `0c`, a `d` when remembered devices met);
 * `j` pair_rejected by or for peer; `c` pair_cancelled by peer; `l` peer_left;
 * `w` peer (the partner) reconnecting; `b` peer back; `s` the client resumed
 * on another instance (peer and reason `-`); and, to `*`, `k` the key peer
 * revoked.
 */
export type EventKind = "r" | "p" | "j" | "c" | "l" | "w" | "b" | "s" | "k";

const KINDS: ReadonlySet<string> = new Set(["r", "p", "j", "c", "l", "w", "b", "s", "k"]);

/**
 * Parses one published event; `undefined` for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEvent } from "./scripts.ts";
 * assert.deepEqual(parseEvent("a l b unpaired"), { to: "a", kind: "l", peer: "b", reason: "unpaired" });
 * assert.deepEqual(parseEvent('a m {"type":"relay"}'), { to: "a", kind: "m", json: '{"type":"relay"}' });
 * assert.equal(parseEvent("nonsense"), undefined);
 * ```
 */
export function parseEvent(payload: string): StoreEvent | undefined {
  const first = payload.indexOf(" ");
  const second = payload.indexOf(" ", first + 1);
  if (first <= 0 || second < 0) return undefined;
  const to = payload.slice(0, first);
  const kind = payload.slice(first + 1, second);
  const rest = payload.slice(second + 1);
  if (kind === "m") return { to, kind, json: rest };
  if (!KINDS.has(kind)) return undefined;
  const space = rest.indexOf(" ");
  if (space <= 0) return undefined;
  return { to, kind: kind as EventKind, peer: rest.slice(0, space), reason: rest.slice(space + 1) };
}

/**
 * The events a script reports after its own results: groups of four strings
 * (`to kind peer reason`), for the acting instance's log.
 */
export function toldEvents(reply: readonly unknown[], from: number): StoreEvent[] {
  const events: StoreEvent[] = [];
  for (let i = from; i + 3 < reply.length; i += 4) {
    events.push({
      to: String(reply[i]),
      kind: String(reply[i + 1]) as EventKind,
      peer: String(reply[i + 2]),
      reason: String(reply[i + 3]),
    });
  }
  return events;
}

// Shared by every script. `tell` sends one event to `to` (unless its
// instance is `skip`, which knows already) and notes it for the reply;
// `deliver` publishes to the instance holding a client, or queues for an away
// one (or one whose instance died unnoticed); `clear` ends every request to or
// from `id` except with `partner`; `remove` forgets a client as a disconnect
// does, with its session.
const PRELUDE = `
local P = '${PREFIX}'
local told = {}
local hold, remove
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function listening(inst)
  return redis.call('PUBSUB', 'NUMSUB', P .. 'ch:' .. inst)[2] > 0
end
local function deliver(to, payload, skip, early)
  local inst = redis.call('HGET', P .. 'clients', to)
  if inst then
    if inst == skip then return end
    if redis.call('PUBLISH', P .. 'ch:' .. inst, payload) > 0 then return end
    if redis.call('EXISTS', P .. 'sess:' .. to) == 1 then hold(to, payload, early) end
  elseif redis.call('ZSCORE', P .. 'away', to) then
    hold(to, payload, early)
  end
end
local function tell(to, kind, peer, reason, skip)
  deliver(to, to .. ' ' .. kind .. ' ' .. peer .. ' ' .. reason, skip)
  told[#told + 1] = to
  told[#told + 1] = kind
  told[#told + 1] = peer
  told[#told + 1] = reason
end
local function reply(...)
  local r = {...}
  for i = 1, #told do r[#r + 1] = told[i] end
  return r
end
local function withdraw(requester)
  local target = redis.call('HGET', P .. 'req', requester)
  if not target then return nil end
  redis.call('HDEL', P .. 'req', requester)
  redis.call('HDEL', P .. 'exp', requester)
  redis.call('SREM', P .. 'in:' .. target, requester)
  return target
end
local function clear(id, partner, dropped, withdrawn, skip)
  local target = withdraw(id)
  if target and target ~= partner then tell(target, 'c', id, withdrawn, skip) end
  for _, requester in ipairs(redis.call('SMEMBERS', P .. 'in:' .. id)) do
    withdraw(requester)
    if requester ~= partner then tell(requester, 'j', id, dropped, skip) end
  end
end
local function release(id)
  local waits = redis.call('GET', P .. 'rvh:' .. id)
  if waits then redis.call('DEL', P .. 'rv:' .. waits, P .. 'rvh:' .. id) end
  local held = redis.call('GET', P .. 'nph:' .. id)
  if not held then return false end
  redis.call('DEL', P .. 'np:' .. held, P .. 'nph:' .. id)
  return held
end
-- Pairs \`initiator\` with \`responder\` at once (by code, \`how\` 'c'; remembered devices, 'd').
local function pair_now(initiator, responder, how)
  release(initiator)
  release(responder)
  redis.call('HSET', P .. 'partner', initiator, responder, responder, initiator)
  tell(initiator, 'p', responder, '1' .. how)
  tell(responder, 'p', initiator, '0' .. how)
  clear(initiator, responder, 'rejected', 'paired')
  clear(responder, initiator, 'rejected', 'paired')
end
local function same_tenant(a, b)
  local ta = redis.call('HGET', P .. 'tenant', a)
  return ta ~= false and ta == redis.call('HGET', P .. 'tenant', b)
end
-- A grant that cannot be read grants nothing: \`p\` empty, no pairing at all.
local function grant_of(id)
  local raw = redis.call('HGET', P .. 'grant', id)
  if not raw then return nil end
  local ok, grant = pcall(cjson.decode, raw)
  if ok and type(grant) == 'table' then return grant end
  return { p = {} }
end
-- Whether a token's grant lets its client pair with \`sub\` (no grant: no token, anyone).
local function allows(grant, sub)
  if not grant or type(grant.p) ~= 'table' then return true end
  if type(sub) ~= 'string' then return false end
  for _, allowed in ipairs(grant.p) do
    if allowed == sub then return true end
  end
  return false
end
-- The tenant rule, and both sides' grants: each must allow the other.
local function may_reach(a, b)
  if not same_tenant(a, b) then return false end
  local ga, gb = grant_of(a), grant_of(b)
  return allows(ga, gb and gb.s) and allows(gb, ga and ga.s)
end
local function forget_session(id)
  local sk = P .. 'sess:' .. id
  local tok = redis.call('HGET', sk, 'tok')
  if tok then redis.call('HDEL', P .. 'tok', tok) end
  redis.call('DEL', sk, P .. 'q:' .. id, P .. 'rq:' .. id)
  redis.call('ZREM', P .. 'away', id)
end
remove = function(id, skip, reason)
  forget_session(id)
  release(id)
  local partner = redis.call('HGET', P .. 'partner', id)
  if partner then
    redis.call('HDEL', P .. 'partner', id, partner)
    tell(partner, 'l', id, reason or 'disconnected', skip)
  end
  clear(id, nil, 'peer_left', 'peer_left', skip)
  local inst = redis.call('HGET', P .. 'clients', id)
  redis.call('HDEL', P .. 'clients', id)
  if inst then redis.call('SREM', P .. 'inst:' .. inst, id) end
  redis.call('HDEL', P .. 'grant', id)
  local tenant = redis.call('HGET', P .. 'tenant', id)
  if tenant then
    redis.call('HDEL', P .. 'tenant', id)
    if tenant ~= '' and redis.call('HINCRBY', P .. 'keycount', tenant, -1) <= 0 then
      redis.call('HDEL', P .. 'keycount', tenant)
    end
  end
end
hold = function(to, payload, early)
  local sk = P .. 'sess:' .. to
  local bytes = tonumber(redis.call('HGET', sk, 'bytes') or '0') + #payload
  local held = redis.call('LLEN', P .. 'q:' .. to) + redis.call('LLEN', P .. 'rq:' .. to)
  if held >= tonumber(redis.call('HGET', sk, 'maxq') or '0')
    or bytes > tonumber(redis.call('HGET', sk, 'maxb') or '0') then
    -- A client that far behind is better told to start again than handed a hole.
    redis.call('HINCRBY', P .. 'stats', 'overflow', 1)
    remove(to)
    return
  end
  -- Events that reached the client's old instance too late wait ahead of the rest.
  redis.call('RPUSH', P .. (early and 'rq:' or 'q:') .. to, payload)
  redis.call('HSET', sk, 'bytes', bytes)
end
local function go_away(id, now)
  local inst = redis.call('HGET', P .. 'clients', id)
  redis.call('HDEL', P .. 'clients', id)
  if inst then redis.call('SREM', P .. 'inst:' .. inst, id) end
  local grace = tonumber(redis.call('HGET', P .. 'sess:' .. id, 'grace') or '0')
  redis.call('ZADD', P .. 'away', now + grace, id)
  local partner = redis.call('HGET', P .. 'partner', id)
  if partner then tell(partner, 'w', id, '-') end
end
local function leave_instance(inst, now)
  local ids = redis.call('SMEMBERS', P .. 'inst:' .. inst)
  -- Resumable clients go away first, so that one whose partner on the same
  -- instance is removed next hears of it in its queue.
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', P .. 'sess:' .. id) == 1 then go_away(id, now) end
  end
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', P .. 'sess:' .. id) == 0 then remove(id, inst) end
  end
  redis.call('DEL', P .. 'inst:' .. inst, P .. 'hb:' .. inst)
  redis.call('SREM', P .. 'instances', inst)
  return #ids
end
`;

/** A script: its Lua source and the SHA-1 Redis knows it by. */
export interface Script {
  /** The name, for metrics and errors. */
  readonly name: string;
  /** The whole Lua source. */
  readonly source: string;
}

function script(name: string, body: string): Script {
  return { name, source: PRELUDE + body };
}

// The bodies of the scripts that may also run together in one `batch`
// call: each a function of its arguments `A`.
const JOIN = `
local inst, id, tenant, max, grant = A[1], A[2], A[3], A[4], A[5]
if redis.call('SISMEMBER', P .. 'instances', inst) == 0 then return reply('gone') end
if tenant ~= '' then
  if max ~= '' and tonumber(redis.call('HGET', P .. 'keycount', tenant) or '0') >= tonumber(max) then
    return reply('key_limit')
  end
  redis.call('HINCRBY', P .. 'keycount', tenant, 1)
end
redis.call('HSET', P .. 'clients', id, inst)
redis.call('HSET', P .. 'tenant', id, tenant)
if grant and grant ~= '' then redis.call('HSET', P .. 'grant', id, grant) end
redis.call('SADD', P .. 'inst:' .. inst, id)
return reply('ok')
`;

const LEAVE = `
local inst, id = A[1], A[2]
if redis.call('HGET', P .. 'clients', id) ~= inst then return reply('gone') end
remove(id)
return reply('ok')
`;

/** A script whose body is also one of `batch`'s operations. */
function batchable(name: string, body: string): Script {
  return script(name, `local function op(A)${body}end\nreturn op(ARGV)\n`);
}

/** The scripts that {@linkcode SCRIPTS}.batch can run, several in one call. */
export const BATCHABLE = ["join", "leave"] as const;

/**
 * Every script, by name. Arguments are noted as ARGV; replies start with a
 * status (`ok` or a wire error code) and end with the events told.
 */
export const SCRIPTS = {
  /**
   * ARGV instance, id, tenant (`""` for none), the key's client limit (`""`
   * for none), its token's grant (JSON, `""` for none): registers a client. `gone` when the instance was presumed
   * dead; `key_limit` when the key has that many clients in the cluster.
   */
  join: batchable("join", JOIN),
  /**
   * ARGV me, target, timeout ms → status, refreshed (0/1), the replaced
   * target or ''. A target of another key is \`unknown_peer\`, exactly as one
   * that does not exist; one of the same key that is away, \`peer_unavailable\`.
   */
  request: script(
    "request",
    `
local me, target, timeout = ARGV[1], ARGV[2], tonumber(ARGV[3])
if target == me then return reply('self_pair') end
if redis.call('HEXISTS', P .. 'clients', me) == 0 then return reply('gone') end
if not may_reach(me, target) then return reply('unknown_peer') end
if redis.call('HEXISTS', P .. 'clients', target) == 0 then
  if redis.call('ZSCORE', P .. 'away', target) then return reply('peer_unavailable') end
  return reply('unknown_peer')
end
if redis.call('HEXISTS', P .. 'partner', me) == 1 then return reply('already_paired') end
if redis.call('HEXISTS', P .. 'partner', target) == 1 then return reply('peer_busy') end
local now = now_ms()
local previous = redis.call('HGET', P .. 'req', me)
local previous_exp = tonumber(redis.call('HGET', P .. 'exp', me) or '0')
if previous then withdraw(me) end
redis.call('HSET', P .. 'req', me, target)
redis.call('HSET', P .. 'exp', me, now + timeout)
redis.call('SADD', P .. 'in:' .. target, me)
local refreshed = previous == target and previous_exp > now
local replaced = ''
if previous and previous ~= target then
  replaced = previous
  tell(previous, 'c', me, 'replaced')
end
if not refreshed then tell(target, 'r', me, '-') end
return reply('ok', refreshed and '1' or '0', replaced)
`,
  ),
  /** ARGV me, from: me accepts from's request; \`peer_unavailable\` while from is away. */
  accept: script(
    "accept",
    `
local me, from = ARGV[1], ARGV[2]
if redis.call('HEXISTS', P .. 'clients', me) == 0 then return reply('gone') end
if redis.call('ZSCORE', P .. 'away', from) and may_reach(me, from) then
  return reply('peer_unavailable')
end
if redis.call('HEXISTS', P .. 'partner', me) == 1 then return reply('already_paired') end
local target = redis.call('HGET', P .. 'req', from)
local exp = tonumber(redis.call('HGET', P .. 'exp', from) or '0')
if target ~= me or exp <= now_ms() then return reply('no_pending_request') end
redis.call('HSET', P .. 'partner', me, from, from, me)
-- A client in a pair has no use for a nameplate: nobody else may pair with it by code.
release(me)
release(from)
tell(from, 'p', me, '1')
tell(me, 'p', from, '0')
clear(me, from, 'rejected', 'paired')
clear(from, me, 'rejected', 'paired')
return reply('ok')
`,
  ),
  /**
   * ARGV me, lifetime ms, then candidate nameplates: gives me the first
   * candidate free in its tenant, releasing the one it held → status, the
   * nameplate. \`already_paired\` for a client with a partner; \`full\` when
   * every candidate is taken.
   */
  codeclaim: script(
    "codeclaim",
    `
local me, ttl = ARGV[1], tonumber(ARGV[2])
if redis.call('HEXISTS', P .. 'clients', me) == 0 then return reply('gone') end
if redis.call('HEXISTS', P .. 'partner', me) == 1 then return reply('already_paired') end
local tenant = redis.call('HGET', P .. 'tenant', me) or ''
release(me)
for i = 3, #ARGV do
  local held = tenant .. ':' .. ARGV[i]
  if redis.call('SET', P .. 'np:' .. held, me, 'NX', 'PX', ttl) then
    redis.call('SET', P .. 'nph:' .. me, held, 'PX', ttl)
    return reply('ok', ARGV[i])
  end
end
return reply('full')
`,
  ),
  /**
   * ARGV me, and a nameplate or '': releases what me holds, if it is that
   * nameplate (or any, with '') → status \`ok\` when one was released.
   */
  coderelease: script(
    "coderelease",
    `
local me, nameplate = ARGV[1], ARGV[2]
local held = redis.call('GET', P .. 'nph:' .. me)
if not held then return reply('gone') end
local tenant = redis.call('HGET', P .. 'tenant', me) or ''
if nameplate ~= '' and held ~= tenant .. ':' .. nameplate then return reply('gone') end
release(me)
return reply('ok')
`,
  ),
  /**
   * ARGV me, nameplate: pairs me at once with the holder of its tenant's
   * nameplate, which is spent → status, the holder. \`unknown_nameplate\`
   * when none is held (or its holder is away or paired), \`self_pair\` for
   * me's own (not spent), \`already_paired\` when me has a partner.
   */
  codeuse: script(
    "codeuse",
    `
local me, nameplate = ARGV[1], ARGV[2]
if redis.call('HEXISTS', P .. 'clients', me) == 0 then return reply('gone') end
if redis.call('HEXISTS', P .. 'partner', me) == 1 then return reply('already_paired') end
local tenant = redis.call('HGET', P .. 'tenant', me) or ''
local holder = redis.call('GET', P .. 'np:' .. tenant .. ':' .. nameplate)
if not holder then return reply('unknown_nameplate') end
if holder == me then return reply('self_pair') end
release(holder)
if redis.call('HEXISTS', P .. 'clients', holder) == 0
  or redis.call('HEXISTS', P .. 'partner', holder) == 1 or not may_reach(me, holder) then
  return reply('unknown_nameplate')
end
pair_now(me, holder, 'c')
return reply('ok', holder)
`,
  ),
  /**
   * ARGV me, lifetime ms, rendezvous: pairs me with the client waiting under
   * the rendezvous in its tenant → \`ok\`, \`paired\`; or has me wait there
   * → \`ok\`, \`waiting\`.
   */
  meet: script(
    "meet",
    `
local me, ttl, rendezvous = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if redis.call('HEXISTS', P .. 'clients', me) == 0 then return reply('gone') end
if redis.call('HEXISTS', P .. 'partner', me) == 1 then return reply('already_paired') end
local tenant = redis.call('HGET', P .. 'tenant', me) or ''
local place = tenant .. ':' .. rendezvous
local waiting = redis.call('GET', P .. 'rv:' .. place)
if waiting and waiting ~= me and redis.call('HEXISTS', P .. 'clients', waiting) == 1
  and redis.call('HEXISTS', P .. 'partner', waiting) == 0 and may_reach(me, waiting) then
  pair_now(me, waiting, 'd')
  return reply('ok', 'paired')
end
release(me)
if waiting then redis.call('DEL', P .. 'rvh:' .. waiting) end
redis.call('SET', P .. 'rv:' .. place, me, 'PX', ttl)
redis.call('SET', P .. 'rvh:' .. me, place, 'PX', ttl)
return reply('ok', 'waiting')
`,
  ),
  /** ARGV me, from: me declines from's request. */
  reject: script(
    "reject",
    `
local me, from = ARGV[1], ARGV[2]
if redis.call('HGET', P .. 'req', from) ~= me then return reply('no_pending_request') end
withdraw(from)
tell(from, 'j', me, 'rejected')
return reply('ok')
`,
  ),
  /** ARGV me → status, the former partner. */
  unpair: script(
    "unpair",
    `
local me = ARGV[1]
local partner = redis.call('HGET', P .. 'partner', me)
if not partner then return reply('not_paired') end
redis.call('HDEL', P .. 'partner', me, partner)
tell(partner, 'l', me, 'unpaired')
return reply('ok', partner)
`,
  ),
  /**
   * ARGV me, partner, json: sends the message to the partner if it is still
   * me's partner (to its instance, or to its queue while it is away).
   * Returns 1 when sent, 0 when not.
   */
  relay: script(
    "relay",
    `
local me, partner = ARGV[1], ARGV[2]
if redis.call('HGET', P .. 'partner', me) ~= partner then return 0 end
deliver(partner, partner .. ' m ' .. ARGV[3])
return 1
`,
  ),
  /**
   * ARGV requester, target: ends the request if it is due. Status \`ok\` when
   * it expired, \`gone\` when it no longer exists, \`later\` and the ms left
   * when it was refreshed.
   */
  expire: script(
    "expire",
    `
local requester, target = ARGV[1], ARGV[2]
if redis.call('HGET', P .. 'req', requester) ~= target then return reply('gone') end
local left = tonumber(redis.call('HGET', P .. 'exp', requester) or '0') - now_ms()
if left > 0 then return reply('later', tostring(left)) end
withdraw(requester)
tell(requester, 'j', target, 'timeout')
tell(target, 'c', requester, 'timeout')
return reply('ok')
`,
  ),
  /** ARGV instance, id: forgets a client that disconnected, with its session. */
  leave: batchable("leave", LEAVE),
  /**
   * ARGV groups of (name, n, then n arguments), each a \`join\` or a \`leave\`:
   * runs them in order, and replies with one reply per group, as its own
   * script would. Many clients connecting and leaving at once cost one
   * round trip instead of one each.
   */
  batch: script(
    "batch",
    `
local ops = {}
ops.join = function(A)${JOIN}end
ops.leave = function(A)${LEAVE}end
local results = {}
local i = 1
while i <= #ARGV do
  local name, n = ARGV[i], tonumber(ARGV[i + 1])
  local A = {}
  for j = 1, n do A[j] = ARGV[i + 1 + j] end
  told = {}
  results[#results + 1] = ops[name](A)
  i = i + 2 + n
end
return results
`,
  ),
  /**
   * ARGV instance, id, token SHA-256, grace ms, most messages, most bytes:
   * opens a resumable session for a client of this instance.
   */
  open: script(
    "open",
    `
local inst, id, tok = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', P .. 'clients', id) ~= inst then return reply('gone') end
local sk = P .. 'sess:' .. id
local old = redis.call('HGET', sk, 'tok')
if old then redis.call('HDEL', P .. 'tok', old) end
redis.call('HSET', sk, 'tok', tok, 'grace', ARGV[4], 'maxq', ARGV[5], 'maxb', ARGV[6], 'bytes', 0)
redis.call('HSET', P .. 'tok', tok, id)
return reply('ok')
`,
  ),
  /**
   * ARGV instance, id, token SHA-256: a resumable client of this instance
   * lost its connection. Its window starts and its partner hears
   * \`peer_reconnecting\`; \`gone\` when the session was resumed meanwhile
   * (its token changed); \`ended\` when it had no session (then it is
   * removed as by \`leave\`).
   */
  away: script(
    "away",
    `
local inst, id, tok = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', P .. 'clients', id) ~= inst then return reply('gone') end
local current = redis.call('HGET', P .. 'sess:' .. id, 'tok')
if current and current ~= tok then return reply('gone') end
if not current then
  remove(id)
  return reply('ended')
end
go_away(id, now_ms())
return reply('ok')
`,
  ),
  /**
   * ARGV instance, token SHA-256, tenant (\`""\` for none), the next token's
   * SHA-256: moves the session of the token to this instance, if it is live
   * and of that key, and spends the token. A session whose instance still
   * holds it (the old connection still looks open) is taken from it with an
   * \`s\` event; one whose instance died unnoticed counts as away. Status
   * \`no\`, or \`ok\`, id, was away (0/1), partner or '', the request's target
   * or '' and its ms left, then the events that waited, oldest first.
   */
  resume: script(
    "resume",
    `
local inst, tok, tenant, next_tok = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local id = redis.call('HGET', P .. 'tok', tok)
if not id or redis.call('HGET', P .. 'tenant', id) ~= tenant then return {'no'} end
local now = now_ms()
local partner = redis.call('HGET', P .. 'partner', id) or ''
local deadline = redis.call('ZSCORE', P .. 'away', id)
local was_away = false
local old = redis.call('HGET', P .. 'clients', id)
if deadline then
  if tonumber(deadline) <= now then return {'no'} end
  was_away = true
elseif old and old ~= inst then
  if redis.call('EXISTS', P .. 'hb:' .. old) == 0 or not listening(old) then
    was_away = true
    if partner ~= '' then tell(partner, 'w', id, '-') end
  else
    redis.call('PUBLISH', P .. 'ch:' .. old, id .. ' s - -')
  end
  redis.call('SREM', P .. 'inst:' .. old, id)
elseif not old then
  return {'no'}
end
redis.call('HDEL', P .. 'tok', tok)
redis.call('HSET', P .. 'tok', next_tok, id)
redis.call('HSET', P .. 'sess:' .. id, 'tok', next_tok, 'bytes', 0)
redis.call('ZREM', P .. 'away', id)
redis.call('HSET', P .. 'clients', id, inst)
redis.call('SADD', P .. 'inst:' .. inst, id)
if was_away and partner ~= '' then tell(partner, 'b', id, '-') end
local target = redis.call('HGET', P .. 'req', id) or ''
local left = 0
if target ~= '' then left = tonumber(redis.call('HGET', P .. 'exp', id) or '0') - now end
local result = {'ok', id, was_away and '1' or '0', partner, target, tostring(left)}
for _, list in ipairs({P .. 'rq:' .. id, P .. 'q:' .. id}) do
  for _, payload in ipairs(redis.call('LRANGE', list, 0, -1)) do result[#result + 1] = payload end
end
redis.call('DEL', P .. 'q:' .. id, P .. 'rq:' .. id)
return result
`,
  ),
  /**
   * ARGV instance, n, then n revoked keys' SHA-256, then the keys still
   * accepted: records the revocation for every instance (and instances to
   * come), tells every other live instance, and ends the away sessions of those
   * keys (telling this instance's clients in the reply, so that it can tell
   * them before it closes its own clients of those keys). Status \`ok\`, how
   * many sessions ended, then the events told.
   */
  revoke: script(
    "revoke",
    `
local inst, n = ARGV[1], tonumber(ARGV[2])
local revoked = {}
for i = 3, n + 2 do
  revoked[ARGV[i]] = true
  redis.call('SADD', P .. 'revoked', ARGV[i])
end
for i = n + 3, #ARGV do redis.call('SREM', P .. 'revoked', ARGV[i]) end
if n == 0 then return {'ok', '0'} end
local ended = 0
for _, id in ipairs(redis.call('ZRANGE', P .. 'away', 0, -1)) do
  if revoked[redis.call('HGET', P .. 'tenant', id) or ''] then
    remove(id, inst)
    ended = ended + 1
  end
end
for _, other in ipairs(redis.call('SMEMBERS', P .. 'instances')) do
  if other ~= inst then
    for i = 3, n + 2 do redis.call('PUBLISH', P .. 'ch:' .. other, '* k ' .. ARGV[i] .. ' -') end
  end
end
return reply('ok', tostring(ended))
`,
  ),
  /**
   * ARGV id, then events: events that reached the instance a client had
   * just left, sent on to wherever it is now (its queue while it is away).
   */
  requeue: script(
    "requeue",
    `
local id = ARGV[1]
for i = 2, #ARGV do deliver(id, ARGV[i], nil, true) end
return reply('ok')
`,
  ),
  /**
   * ARGV instance, ttl ms: renews the heartbeat, forgets every instance whose
   * heartbeat has expired or that no longer listens (its resumable clients
   * go away, the rest are removed), and ends the windows that are over.
   * Status \`gone\` when this instance was presumed dead itself; else \`ok\`,
   * clients away in the cluster, windows ended, sessions ended by an
   * overflowing queue since the last count, then (instance, clients) for
   * each instance forgotten.
   */
  heartbeat: script(
    "heartbeat",
    `
local inst, ttl = ARGV[1], ARGV[2]
if redis.call('SISMEMBER', P .. 'instances', inst) == 0 then return {'gone'} end
redis.call('SET', P .. 'hb:' .. inst, '1', 'PX', ttl)
local now = now_ms()
local gone = {}
for _, other in ipairs(redis.call('SMEMBERS', P .. 'instances')) do
  if other ~= inst and (redis.call('EXISTS', P .. 'hb:' .. other) == 0 or not listening(other)) then
    gone[#gone + 1] = other
    gone[#gone + 1] = tostring(leave_instance(other, now))
  end
end
local due = redis.call('ZRANGEBYSCORE', P .. 'away', '-inf', now)
for _, id in ipairs(due) do remove(id, nil, 'timeout') end
local overflowed = redis.call('HGET', P .. 'stats', 'overflow') or '0'
redis.call('HDEL', P .. 'stats', 'overflow')
local result = {'ok', tostring(redis.call('ZCARD', P .. 'away')), tostring(#due), overflowed}
for i = 1, #gone do result[#result + 1] = gone[i] end
return result
`,
  ),
  /**
   * ARGV instance, ttl ms: (re)enters an instance with no clients. Whatever
   * Redis still held for it is stale, so it is removed, telling clients on
   * other instances (its own were told when the link was lost). Status
   * \`ok\`, then the keys revoked in the cluster.
   */
  enter: script(
    "enter",
    `
local inst, ttl = ARGV[1], ARGV[2]
local ids = redis.call('SMEMBERS', P .. 'inst:' .. inst)
for _, id in ipairs(ids) do remove(id, inst) end
redis.call('DEL', P .. 'inst:' .. inst)
redis.call('SADD', P .. 'instances', inst)
redis.call('SET', P .. 'hb:' .. inst, '1', 'PX', ttl)
local result = {'ok'}
for _, tenant in ipairs(redis.call('SMEMBERS', P .. 'revoked')) do result[#result + 1] = tenant end
return result
`,
  ),
  /**
   * ARGV instance, n, then n groups (id, tenant, grant or '', token SHA-256 or
   * '', grace, most messages, most bytes), then pairs of partners: registers live
   * clients again after the link came back, with their sessions, and their
   * pairs on this instance. Whatever Redis held of each is stale (partners
   * elsewhere were told the pair ended), except a client that resumed on
   * another instance meanwhile: those are listed in the reply, to be closed.
   */
  rejoin: script(
    "rejoin",
    `
local inst, n = ARGV[1], tonumber(ARGV[2])
local moved = {'ok'}
local here = {}
for g = 0, n - 1 do
  local b = 3 + g * 7
  local id, tenant, grant, tok = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local holder = redis.call('HGET', P .. 'clients', id)
  local current = redis.call('HGET', P .. 'sess:' .. id, 'tok')
  -- Held elsewhere, or resumed elsewhere (its token changed) and away there now.
  if (holder and holder ~= inst) or (current and current ~= tok) then
    moved[#moved + 1] = id
  else
    -- The grant a session began with stays, wherever it resumed since.
    local had = redis.call('HGET', P .. 'grant', id)
    remove(id, inst)
    redis.call('HSET', P .. 'clients', id, inst)
    redis.call('HSET', P .. 'tenant', id, tenant)
    if had then redis.call('HSET', P .. 'grant', id, had)
    elseif grant ~= '' then redis.call('HSET', P .. 'grant', id, grant) end
    if tenant ~= '' then redis.call('HINCRBY', P .. 'keycount', tenant, 1) end
    redis.call('SADD', P .. 'inst:' .. inst, id)
    if tok ~= '' then
      redis.call('HSET', P .. 'sess:' .. id, 'tok', tok, 'grace', ARGV[b + 4], 'maxq', ARGV[b + 5],
        'maxb', ARGV[b + 6], 'bytes', 0)
      redis.call('HSET', P .. 'tok', tok, id)
    end
    here[id] = true
  end
end
for i = 3 + n * 7, #ARGV - 1, 2 do
  if here[ARGV[i]] and here[ARGV[i + 1]] then
    redis.call('HSET', P .. 'partner', ARGV[i], ARGV[i + 1], ARGV[i + 1], ARGV[i])
  end
end
return moved
`,
  ),
  /** ARGV instance: a graceful exit; clients left are removed, others told. */
  exit: script(
    "exit",
    `
local inst = ARGV[1]
local ids = redis.call('SMEMBERS', P .. 'inst:' .. inst)
for _, id in ipairs(ids) do remove(id, inst) end
redis.call('DEL', P .. 'inst:' .. inst, P .. 'hb:' .. inst)
redis.call('SREM', P .. 'instances', inst)
return {'ok', tostring(#ids)}
`,
  ),
} as const satisfies Record<string, Script>;

/** A script's name. */
export type ScriptName = keyof typeof SCRIPTS;
