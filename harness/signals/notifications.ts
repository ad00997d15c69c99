// What the on-call would have received: the notifications an Alertmanager delivered to meshdrill's webhook
// receiver (with the time each arrived), and, for an alert that never arrived, whether Alertmanager holds it back
// (inhibited or silenced) — read from its v2 API. The seam through which `notification` signals are judged.
// Where meshdrill has no receiver of its own (the user's Alertmanager on existing), delivery is not observable:
// the port then keeps, per alert, when a poll first saw Alertmanager hold it active, for a judgement from routing.

export interface DeliveredNotification {
  receiver: string;
  /** The scenario routing whose Alertmanager sent it; absent for the target's own routing. */
  routing?: string;
  /** Epoch ms when the receiver got it. */
  receivedAt: number;
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; startsAt: string }[];
}

/** An alert as Alertmanager holds it now (its v2 API): whether it would be sent, and to whom. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  /** `active` (to be sent), `suppressed` (inhibited or silenced) or `unprocessed`. */
  state: string;
  startsAt: string;
  receivers: string[];
  inhibitedBy: string[];
  silencedBy: string[];
  /** Epoch ms of the first poll that saw this alert (its fingerprint) active: no earlier than its arrival. */
  firstSeenActiveAt?: number;
}

export interface NotificationPort {
  /**
   * The longest Alertmanager holds a notification after its alert arrives: group_wait when the alert opens a
   * group, up to group_interval when it joins a group still alive.
   */
  readonly routingDelayMs: number;
  /**
   * False where deliveries cannot be observed (no meshdrill receiver): `delivered` is then always empty and a
   * signal is judged from Alertmanager's routing.
   */
  readonly observesDelivery: boolean;
  /** Receivers with no integration: routing an alert there pages nobody. */
  readonly silentReceivers: readonly string[];
  delivered(signal?: AbortSignal): Promise<DeliveredNotification[]>;
  /** Every instance of `alertname` Alertmanager holds now — active, suppressed (and by what) or unprocessed. */
  alerts(alertname: string, signal?: AbortSignal): Promise<AlertmanagerAlert[]>;
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, signal ? { signal } : {});
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export function createNotificationPort(options: {
  alertmanagerUrl: string;
  receiverUrl?: string;
  /**
   * The scenario routing this Alertmanager runs (its id): the receiver is shared by every Alertmanager of the
   * target, so only that routing's deliveries are this port's. Absent: the target's own routing.
   */
  routing?: string;
  routingDelayMs: number;
  silentReceivers?: readonly string[];
  now?: () => number;
}): NotificationPort {
  const am = options.alertmanagerUrl.replace(/\/+$/, '');
  const { receiverUrl } = options;
  const now = options.now ?? Date.now;
  const firstSeenActive = new Map<string, number>();
  return {
    routingDelayMs: options.routingDelayMs,
    observesDelivery: receiverUrl !== undefined,
    silentReceivers: options.silentReceivers ?? [],
    delivered: async (signal) =>
      receiverUrl === undefined
        ? []
        : (await getJson<DeliveredNotification[]>(`${receiverUrl}/notifications`, signal)).filter(
            (n) => n.routing === options.routing,
          ),
    async alerts(alertname, signal) {
      const filter = encodeURIComponent(`alertname="${alertname}"`);
      const alerts = await getJson<
        {
          fingerprint?: string;
          labels: Record<string, string>;
          startsAt: string;
          receivers?: { name: string }[];
          status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
        }[]
      >(
        `${am}/api/v2/alerts?filter=${filter}&active=true&inhibited=true&silenced=true&unprocessed=true`,
        signal,
      );
      const seenAt = now();
      return alerts.map((a) => {
        // One episode of one alert: the fingerprint is its label set's hash, so the start tells episodes apart.
        const key = `${a.fingerprint ?? JSON.stringify(a.labels)}@${a.startsAt}`;
        if (a.status.state === 'active' && !firstSeenActive.has(key)) firstSeenActive.set(key, seenAt);
        const firstSeenActiveAt = firstSeenActive.get(key);
        return {
          labels: a.labels,
          state: a.status.state,
          startsAt: a.startsAt,
          receivers: (a.receivers ?? []).map((r) => r.name),
          inhibitedBy: a.status.inhibitedBy,
          silencedBy: a.status.silencedBy,
          ...(firstSeenActiveAt === undefined ? {} : { firstSeenActiveAt }),
        };
      });
    },
  };
}
