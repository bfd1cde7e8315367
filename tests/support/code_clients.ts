/**
 * Raw WebSocket clients that pair by code, for the signaling tests of one
 * instance and of a cluster alike.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestClient } from "./helpers.ts";

/** A message as JSON gives it. */
export type Message = Record<string, unknown>;

/** The next message of `client`, within `ms`. */
export async function next(client: TestClient, ms = 5000): Promise<Message> {
  return await client.next(ms) as Message;
}

/** A client connected to `url` that holds a nameplate. */
export async function holding(url: string) {
  const { client, id } = await TestClient.connect(url);
  client.send({ type: "code_claim" });
  const plate = await next(client);
  assert.equal(plate.type, "nameplate", JSON.stringify(plate));
  return { client, id, nameplate: String(plate.nameplate), expiresS: Number(plate.expires_s) };
}

/**
 * A client connected to `url` that types `holder`'s nameplate: both hear
 * `paired` by code, the typist as the initiator.
 */
export async function usingCode(
  url: string,
  holder: { client: TestClient; id: string; nameplate: string },
): Promise<{ client: TestClient; id: string }> {
  const { client, id } = await TestClient.connect(url);
  client.send({ type: "code_use", nameplate: holder.nameplate });
  assert.deepEqual(await next(client), {
    type: "paired",
    peer: holder.id,
    initiator: true,
    by_code: true,
  });
  assert.deepEqual(await next(holder.client), {
    type: "paired",
    peer: id,
    initiator: false,
    by_code: true,
  });
  return { client, id };
}

/**
 * A client connected to `url` that meets `waiting` under `rendezvous`: both
 * hear `paired` as remembered devices, the newcomer as the initiator.
 */
export async function meeting(
  url: string,
  rendezvous: string,
  waiting: { client: TestClient; id: string },
): Promise<{ client: TestClient; id: string }> {
  const { client, id } = await TestClient.connect(url);
  client.send({ type: "meet", rendezvous });
  assert.deepEqual(await next(client), {
    type: "paired",
    peer: waiting.id,
    initiator: true,
    by_device: true,
  });
  assert.deepEqual(await next(waiting.client), {
    type: "paired",
    peer: id,
    initiator: false,
    by_device: true,
  });
  return { client, id };
}
