// Telling an approver who is not looking: when a request or a held statement newly waits for
// them, a desktop notification (the Notification API) and a short chime, if they asked for it
// (opt-in, remembered in this browser; the browser asks for the permission once). Clicking the
// notification brings the Access page forward.
import type { AccessRequestView } from '../../../../common/api-contract.ts';

const STORAGE_KEY = 'vigil.requestAlerts';

function rememberedOn(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'on';
  } catch {
    return false;
  }
}

/** What the notification says: who asks for what, and why (the hub masked a held statement). */
export function alertText(r: AccessRequestView): { title: string; body: string } {
  if (r.scope === 'statement') {
    return { title: `Held statement #${r.id} on ${r.target}`, body: `${r.user}${r.rule ? ` (rule ${r.rule})` : ''}: ${(r.statement ?? '').slice(0, 160)}` };
  }
  const what = r.scope === 'recording' ? `to read recordings of ${r.target}` : `access to ${r.target}`;
  return { title: `Access request #${r.id}`, body: `${r.user} asks for ${what}${r.reason ? `: ${r.reason.slice(0, 160)}` : ''}` };
}

class RequestAlerts {
  on = $state(rememberedOn());
  /** The browser's answer for notifications ('unsupported' where there is no Notification API). */
  permission = $state<NotificationPermission | 'unsupported'>(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
  #audio: AudioContext | null = null;

  /** Turns alerts on (asking the browser for the permission, from the click that turned them on). */
  async enable(): Promise<void> {
    this.#remember(true);
    // The sound needs a context made during a user's gesture; make it now.
    this.#audio ??= typeof AudioContext === 'undefined' ? null : new AudioContext();
    if (this.permission === 'default') this.permission = await Notification.requestPermission();
  }

  disable(): void {
    this.#remember(false);
  }

  announce(request: AccessRequestView): void {
    if (!this.on) return;
    this.#chime();
    if (this.permission !== 'granted') return;
    const { title, body } = alertText(request);
    const note = new Notification(title, { body, tag: `vigil-access-${request.id}` });
    note.onclick = () => {
      window.focus();
      location.hash = '#/access';
      note.close();
    };
  }

  #remember(on: boolean): void {
    this.on = on;
    try {
      localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off');
    } catch {
      // Storage refused (a private window): on for this page only.
    }
  }

  /** Two short tones, quiet: noticeable without being an alarm. */
  #chime(): void {
    const audio = this.#audio ?? (typeof AudioContext === 'undefined' ? null : (this.#audio = new AudioContext()));
    if (!audio) return;
    const start = audio.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.16, 1320]] as const) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.15, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.14);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.15);
    }
  }
}

export const requestAlerts = new RequestAlerts();
