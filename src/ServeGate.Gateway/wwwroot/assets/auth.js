// The key form: shown when the API answers 401. The key is kept in this tab's sessionStorage (never in the URL) and
// sent as `Authorization: Bearer`.
import { onKeyNeeded, forgetKey, storedKey } from '/assets/api.js';

export function installKeyForm() {
  const dialog = document.getElementById('key-dialog');
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
