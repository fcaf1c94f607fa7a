// The key form: shown when the API answers 401. The key is kept in this tab's sessionStorage (never in the URL) and
// sent as `Authorization: Bearer`.
import { onKeyNeeded, forgetKey, storedKey } from '/assets/api.js';

const FORM = `<form method="dialog">
  <h2>API key</h2>
  <p data-message></p>
  <label>Key <input type="password" name="key" autocomplete="off" required></label>
  <p class="hint">Kept in this browser tab only, and sent as <code>Authorization: Bearer</code>.</p>
  <menu><button type="button" data-cancel>Cancel</button> <button type="submit">Use key</button></menu>
</form>`;

export function installKeyForm() {
  const dialog = document.createElement('dialog');
  dialog.id = 'key-dialog';
  dialog.innerHTML = FORM;
  document.body.append(dialog);
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input');
  const message = dialog.querySelector('[data-message]');
  let pending = null;

  onKeyNeeded((why) => {
    if (pending) {
      return pending;
    }
    message.textContent = why;
    input.value = '';
    pending = new Promise((resolve) => {
      const done = (value) => {
        dialog.close();
        pending = null;
        resolve(value);
      };
      form.onsubmit = (event) => {
        event.preventDefault();
        done(input.value.trim() || null);
      };
      dialog.querySelector('[data-cancel]').onclick = () => done(null);
    });
    dialog.showModal();
    input.focus();
    return pending;
  });

  const signOut = document.getElementById('forget-key');
  if (signOut) {
    signOut.hidden = !storedKey();
    signOut.onclick = () => {
      forgetKey();
      location.reload();
    };
  }
}
