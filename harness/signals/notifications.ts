// What the on-call would have received: the notifications an Alertmanager delivered to meshdrill's webhook
// receiver (with the time each arrived), and, for an alert that never arrived, whether Alertmanager holds it back
// (inhibited or silenced) — read from its v2 API. The seam through which `notification` signals are judged.

export interface DeliveredNotification {
  receiver: string;
  /** Epoch ms when the receiver got it. */
  receivedAt: number;
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; startsAt: string }[];
}

export interface HeldBackAlert {
  labels: Record<string, string>;
  inhibitedBy: string[];
  silencedBy: string[];
}

export interface NotificationPort {
  /**
   * The longest Alertmanager holds a notification after its alert arrives: group_wait when the alert opens a
   * group, up to group_interval when it joins a group still alive.
   */
  readonly routingDelayMs: number;
  delivered(signal?: AbortSignal): Promise<DeliveredNotification[]>;
  /** The instances of `alertname` that Alertmanager suppresses now, and by what. */
  heldBack(alertname: string, signal?: AbortSignal): Promise<HeldBackAlert[]>;
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, signal ? { signal } : {});
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export function createNotificationPort(options: {
  alertmanagerUrl: string;
  receiverUrl: string;
  routingDelayMs: number;
}): NotificationPort {
  const am = options.alertmanagerUrl.replace(/\/+$/, '');
  return {
    routingDelayMs: options.routingDelayMs,
    delivered: (signal) => getJson<DeliveredNotification[]>(`${options.receiverUrl}/notifications`, signal),
    async heldBack(alertname, signal) {
      const filter = encodeURIComponent(`alertname="${alertname}"`);
      const alerts = await getJson<
        {
          labels: Record<string, string>;
          status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
        }[]
      >(`${am}/api/v2/alerts?filter=${filter}&active=true&inhibited=true&silenced=true`, signal);
      return alerts
        .filter((a) => a.status.state === 'suppressed')
        .map((a) => ({
          labels: a.labels,
          inhibitedBy: a.status.inhibitedBy,
          silencedBy: a.status.silencedBy,
        }));
    },
  };
}
