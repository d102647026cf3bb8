// One form's submission to the hub, as the dashboard's create forms do it: the form is checked
// first (its message shown, nothing sent), then sent once at a time; on success the form is
// emptied and a line says what now holds; the hub's refusal is shown as it says it.
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export class FormSubmission {
  failure = $state('');
  made = $state('');
  busy = $state(false);

  async submit<T, R>(checked: Checked<T>, send: (value: T) => Promise<R>, done: (result: R) => string): Promise<void> {
    this.made = '';
    if (!checked.ok) {
      this.failure = checked.error;
      return;
    }
    this.busy = true;
    try {
      const result = await send(checked.value);
      this.failure = '';
      this.made = done(result);
    } catch (err) {
      this.failure = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }
}
