/**
 * What Redis holds for several instances, and the Lua scripts that change it:
 * each pairing rule is checked and applied in one script, so two instances
 * can never pair one client twice, and each script publishes what the clients
 * concerned must hear to the instances that hold them. Pure: strings and
 * parsing, no network.
 *
 * Keys (prefix `switchboard:`):
 * - `clients`: hash, client id → the instance that holds it
 * - `partner`: hash, client id → partner id (both directions)
 * - `req` / `exp`: hashes, requester → target / expiry (ms, Redis clock)
 * - `in:<target>`: set of the requesters waiting on `target`
 * - `inst:<instance>`: set of the instance's client ids
 * - `instances`: set of live instances; `hb:<instance>`: heartbeat key with a TTL
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
 * `r` pair_request from peer; `p` paired with peer (reason `1`: initiator);
 * `j` pair_rejected by or for peer; `c` pair_cancelled by peer; `l` peer_left.
 */
export type EventKind = "r" | "p" | "j" | "c" | "l";

const KINDS: ReadonlySet<string> = new Set(["r", "p", "j", "c", "l"]);

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

// Shared by every script. `tell` publishes one event to the instance that
// holds `to` (unless that is `skip`, an instance that knows already) and notes
// it for the reply; `clear` ends every request to or from `id` except with
// `partner`; `remove` forgets a client as a disconnect does.
const PRELUDE = `
local P = '${PREFIX}'
local told = {}
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function tell(to, kind, peer, reason, skip)
  local inst = redis.call('HGET', P .. 'clients', to)
  if inst and inst ~= skip then
    redis.call('PUBLISH', P .. 'ch:' .. inst, to .. ' ' .. kind .. ' ' .. peer .. ' ' .. reason)
  end
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
local function remove(id, skip)
  local partner = redis.call('HGET', P .. 'partner', id)
  if partner then
    redis.call('HDEL', P .. 'partner', id, partner)
    tell(partner, 'l', id, 'disconnected', skip)
  end
  clear(id, nil, 'peer_left', 'peer_left', skip)
  local inst = redis.call('HGET', P .. 'clients', id)
  redis.call('HDEL', P .. 'clients', id)
  if inst then redis.call('SREM', P .. 'inst:' .. inst, id) end
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

/**
 * Every script, by name. Arguments are noted as ARGV; replies start with a
 * status (`ok` or a wire error code) and end with the events told.
 */
export const SCRIPTS = {
  /** ARGV instance, id: registers a client; `0` when the instance was presumed dead. */
  join: script(
    "join",
    `
local inst, id = ARGV[1], ARGV[2]
if redis.call('SISMEMBER', P .. 'instances', inst) == 0 then return reply('gone') end
redis.call('HSET', P .. 'clients', id, inst)
redis.call('SADD', P .. 'inst:' .. inst, id)
return reply('ok')
`,
  ),
  /** ARGV me, target, timeout ms → status, refreshed (0/1), the replaced target or ''. */
  request: script(
    "request",
    `
local me, target, timeout = ARGV[1], ARGV[2], tonumber(ARGV[3])
if target == me then return reply('self_pair') end
if redis.call('HEXISTS', P .. 'clients', me) == 0 then return reply('gone') end
if redis.call('HEXISTS', P .. 'clients', target) == 0 then return reply('unknown_peer') end
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
  /** ARGV me, from: me accepts from's request. */
  accept: script(
    "accept",
    `
local me, from = ARGV[1], ARGV[2]
if redis.call('HEXISTS', P .. 'clients', me) == 0 then return reply('gone') end
if redis.call('HEXISTS', P .. 'partner', me) == 1 then return reply('already_paired') end
local target = redis.call('HGET', P .. 'req', from)
local exp = tonumber(redis.call('HGET', P .. 'exp', from) or '0')
if target ~= me or exp <= now_ms() then return reply('no_pending_request') end
redis.call('HSET', P .. 'partner', me, from, from, me)
tell(from, 'p', me, '1')
tell(me, 'p', from, '0')
clear(me, from, 'rejected', 'paired')
clear(from, me, 'rejected', 'paired')
return reply('ok')
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
   * ARGV me, partner, json: publishes the message to the partner's instance
   * if it is still me's partner. Returns 1 when sent, 0 when not.
   */
  relay: script(
    "relay",
    `
local me, partner = ARGV[1], ARGV[2]
if redis.call('HGET', P .. 'partner', me) ~= partner then return 0 end
local inst = redis.call('HGET', P .. 'clients', partner)
if not inst then return 0 end
redis.call('PUBLISH', P .. 'ch:' .. inst, partner .. ' m ' .. ARGV[3])
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
  /** ARGV instance, id: forgets a client that disconnected. */
  leave: script(
    "leave",
    `
local inst, id = ARGV[1], ARGV[2]
if redis.call('HGET', P .. 'clients', id) ~= inst then return reply('gone') end
remove(id)
return reply('ok')
`,
  ),
  /**
   * ARGV instance, ttl ms: renews the heartbeat and forgets every instance
   * whose heartbeat has expired, with its clients. Status \`gone\` when this
   * instance was presumed dead itself; else \`ok\` then (instance, clients)
   * for each one forgotten.
   */
  heartbeat: script(
    "heartbeat",
    `
local inst, ttl = ARGV[1], ARGV[2]
if redis.call('SISMEMBER', P .. 'instances', inst) == 0 then return {'gone'} end
redis.call('SET', P .. 'hb:' .. inst, '1', 'PX', ttl)
local result = {'ok'}
for _, other in ipairs(redis.call('SMEMBERS', P .. 'instances')) do
  if other ~= inst and redis.call('EXISTS', P .. 'hb:' .. other) == 0 then
    local ids = redis.call('SMEMBERS', P .. 'inst:' .. other)
    for _, id in ipairs(ids) do remove(id, other) end
    redis.call('DEL', P .. 'inst:' .. other)
    redis.call('SREM', P .. 'instances', other)
    result[#result + 1] = other
    result[#result + 1] = tostring(#ids)
  end
end
return result
`,
  ),
  /**
   * ARGV instance, ttl ms: (re)enters an instance with no clients. Whatever
   * Redis still held for it is stale, so it is removed, telling clients on
   * other instances (its own were told when the link was lost).
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
return {'ok', tostring(#ids)}
`,
  ),
  /**
   * ARGV instance, n, n client ids, then pairs of partners: registers live
   * clients again after the link came back, and their pairs on this instance.
   */
  rejoin: script(
    "rejoin",
    `
local inst, n = ARGV[1], tonumber(ARGV[2])
for i = 3, n + 2 do
  redis.call('HSET', P .. 'clients', ARGV[i], inst)
  redis.call('SADD', P .. 'inst:' .. inst, ARGV[i])
end
for i = n + 3, #ARGV - 1, 2 do
  redis.call('HSET', P .. 'partner', ARGV[i], ARGV[i + 1], ARGV[i + 1], ARGV[i])
end
return {'ok'}
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
