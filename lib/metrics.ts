/**
 * Server counters and their Prometheus text exposition (format 0.0.4).
 * Pure: the server bumps the numbers, `/metrics` renders them.
 *
 * @module
 */

/** Why a registered client went away; the `reason` label of disconnections. */
export type DisconnectReason =
  | "clean"
  | "abrupt"
  | "timeout"
  | "limit"
  | "shutdown"
  | "violation";

/** Every disconnect reason, in exposition order. */
export const DISCONNECT_REASONS: readonly DisconnectReason[] = [
  "clean",
  "abrupt",
  "timeout",
  "limit",
  "shutdown",
  "violation",
];

/** How a resume attempt or a grace window ended; the `outcome` label of resumes. */
export type ResumeOutcome = "resumed" | "failed" | "timeout" | "overflow" | "revoked";

const RESUME_OUTCOMES: readonly ResumeOutcome[] = [
  "resumed",
  "failed",
  "timeout",
  "overflow",
  "revoked",
];

/**
 * The server's counters. Plain numbers and maps, so bumping one on the hot
 * path costs an increment.
 */
export class Metrics {
  /** Connections accepted as WebSockets, full or not. */
  connections = 0;
  /** WebSockets whose socket has not closed yet: each holds a descriptor. */
  sockets = 0;
  /** Handshakes that never opened: the runtime holds their descriptors for good. */
  handshakesUnopened = 0;
  /** Sockets closed by the server whose peer did not answer the close in time. */
  closeTimeouts = 0;
  /** Messages received from clients, good or bad. */
  messagesReceived = 0;
  /** Registered clients that went away, by reason. */
  readonly disconnections: Map<DisconnectReason, number> = new Map(
    DISCONNECT_REASONS.map((reason) => [reason, 0]),
  );
  /** Bad messages by error code. */
  readonly badMessages: Map<string, number> = new Map();
  /** Handshakes refused, by HTTP status. */
  readonly refusedHandshakes: Map<number, number> = new Map();
  /** Messages relayed to a partner, by type: signaling, and chat that went via the server. */
  readonly relayed: Map<string, number> = new Map(
    ["offer", "answer", "candidate", "relay"].map((type) => [type, 0]),
  );
  /** Connections dropped for breaking the WebSocket protocol, by kind. */
  readonly violations: Map<string, number> = new Map();
  /** Clients refused with `server_full` and 1013 at `--max-clients`. */
  serverFull = 0;
  /** Well-formed requests the pairing rules refused, by error code. */
  readonly refusedRequests: Map<string, number> = new Map();
  /** Clients refused with 1013 while the shared registry was out of reach. */
  unavailable = 0;
  // More families, in the same text format: the signaling's own, when it has any.
  readonly #more: () => string;

  /**
   * @param more The families of a part that keeps its own counters (a shared
   * store's signaling), rendered after these; none by default.
   */
  constructor(more: () => string = () => "") {
    this.#more = more;
  }

  /** Resume attempts and grace windows, by how they ended. */
  readonly resumes: Map<ResumeOutcome, number> = new Map(
    RESUME_OUTCOMES.map((outcome) => [outcome, 0]),
  );

  /** Counts one resume attempt or ended window. */
  resumed(outcome: ResumeOutcome): void {
    this.resumes.set(outcome, (this.resumes.get(outcome) ?? 0) + 1);
  }

  /** Counts one disconnection. */
  disconnected(reason: DisconnectReason): void {
    this.disconnections.set(reason, (this.disconnections.get(reason) ?? 0) + 1);
  }

  /** Counts one bad message. */
  badMessage(code: string): void {
    this.badMessages.set(code, (this.badMessages.get(code) ?? 0) + 1);
  }

  /** Counts one message relayed to a partner. */
  relayedMessage(type: string): void {
    this.relayed.set(type, (this.relayed.get(type) ?? 0) + 1);
  }

  /** Counts one protocol violation. */
  violation(kind: string): void {
    this.violations.set(kind, (this.violations.get(kind) ?? 0) + 1);
  }

  /** Counts one refused request. */
  refusedRequest(code: string): void {
    this.refusedRequests.set(code, (this.refusedRequests.get(code) ?? 0) + 1);
  }

  /** Counts one refused handshake. */
  refused(status: number): void {
    this.refusedHandshakes.set(status, (this.refusedHandshakes.get(status) ?? 0) + 1);
  }

  /**
   * Renders the Prometheus text format.
   *
   * @param clients The current number of registered clients.
   * @param keyClients With API keys: each key's label and its connected
   *   clients, rendered as `switchboard_key_clients`.
   */
  render(clients: number, keyClients?: Iterable<[label: string, clients: number]>): string {
    const lines: string[] = [];
    const family = (
      name: string,
      type: "counter" | "gauge",
      help: string,
      samples: Iterable<[labels: string, value: number]>,
    ): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) {
        lines.push(`${name}${labels} ${value}`);
      }
    };
    family("switchboard_clients", "gauge", "Connected clients.", [[
      "",
      clients,
    ]]);
    if (keyClients !== undefined) {
      family(
        "switchboard_key_clients",
        "gauge",
        "Connected clients, by API key label.",
        [...keyClients].map(([key, n]) => [label("key", key), n]),
      );
    }
    family(
      "switchboard_connections_total",
      "counter",
      "WebSocket connections accepted.",
      [["", this.connections]],
    );
    family(
      "switchboard_sockets",
      "gauge",
      "WebSocket connections still held (handshakes, clients, closing, stuck); one descriptor each.",
      [["", this.sockets]],
    );
    family(
      "switchboard_handshakes_unopened_total",
      "counter",
      "Upgraded connections that never opened (reset during the handshake); their descriptors stay held.",
      [["", this.handshakesUnopened]],
    );
    family(
      "switchboard_close_timeouts_total",
      "counter",
      "Connections closed by the server whose peer never answered the close frame in time.",
      [["", this.closeTimeouts]],
    );
    family(
      "switchboard_disconnections_total",
      "counter",
      "Clients that went away, by reason.",
      [...this.disconnections].map(([reason, n]) => [label("reason", reason), n]),
    );
    family(
      "switchboard_messages_received_total",
      "counter",
      "Messages received from clients.",
      [["", this.messagesReceived]],
    );
    family(
      "switchboard_bad_messages_total",
      "counter",
      "Bad messages from clients, by error code.",
      [...this.badMessages].map(([code, n]) => [label("code", code), n]),
    );
    family(
      "switchboard_refused_handshakes_total",
      "counter",
      "WebSocket handshakes refused, by HTTP status.",
      [...this.refusedHandshakes].map(([status, n]) => [label("status", String(status)), n]),
    );
    family(
      "switchboard_relayed_messages_total",
      "counter",
      "Messages relayed to a partner, by type (offer, answer, candidate, relay).",
      [...this.relayed].map(([type, n]) => [label("type", type), n]),
    );
    family(
      "switchboard_protocol_violations_total",
      "counter",
      "Connections dropped for breaking the WebSocket protocol, by kind.",
      [...this.violations].map(([kind, n]) => [label("kind", kind), n]),
    );
    family(
      "switchboard_server_full_total",
      "counter",
      "Clients refused with server_full and 1013 at the client limit.",
      [["", this.serverFull]],
    );
    family(
      "switchboard_refused_requests_total",
      "counter",
      "Well-formed requests refused by the pairing rules, by error code.",
      [...this.refusedRequests].map(([code, n]) => [label("code", code), n]),
    );
    family(
      "switchboard_resumes_total",
      "counter",
      "Resumable sessions: resumes (resumed, failed) and grace windows that ended without one (timeout, overflow, revoked).",
      [...this.resumes].map(([outcome, n]) => [label("outcome", outcome), n]),
    );
    const more = this.#more();
    // Only signaling with state elsewhere has counters of its own, and can be out of reach.
    if (more !== "") {
      family(
        "switchboard_unavailable_total",
        "counter",
        "Clients refused with 1013 while the shared registry was out of reach.",
        [["", this.unavailable]],
      );
    }
    return lines.join("\n") + "\n" + more;
  }
}

function label(name: string, value: string): string {
  const escaped = value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(
    /\n/g,
    "\\n",
  );
  return `{${name}="${escaped}"}`;
}
