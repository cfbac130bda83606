/**
 * Push wake-up for offline recipients: the webhook learns only `{relay, envelope_id}`
 * (proposal §21.B), never who or what. Fire and forget, with a timeout.
 */

export interface PushNotifier {
  notify(envelopeId: string): void;
}

export function webhookPushNotifier(
  url: string,
  relay: string,
  onError: (err: unknown) => void,
): PushNotifier {
  return {
    notify(envelopeId) {
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ relay, envelope_id: envelopeId }),
        redirect: "error",
        signal: AbortSignal.timeout(5000),
      }).then((res) => res.body?.cancel(), onError);
    },
  };
}
