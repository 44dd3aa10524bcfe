// app.js: progressive enhancement only; every page works without it.
document.addEventListener('click', function (ev) {
  var b = ev.target.closest('button[data-copy]');
  if (!b) return;
  var input = document.getElementById(b.getAttribute('data-copy'));
  if (!input) return;
  input.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(input.value).then(function () { b.textContent = 'Copied'; });
  } else {
    document.execCommand('copy');
    b.textContent = 'Copied';
  }
});

// A project that is syncing: follow its status without reloading by hand. The
// page stays correct without JS ("Reload to follow"); this only saves the click.
(function () {
  var card = document.getElementById('status-card');
  if (!card) return;
  var busy = function (s) { return s === 'PENDING' || s === 'SYNCING'; };
  if (!busy(card.getAttribute('data-status'))) return;
  var hint = card.querySelector('.nojs-hint');
  if (hint) hint.textContent = 'Updating as it runs…';
  var timer = setInterval(function () {
    fetch(card.getAttribute('data-status-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) {
        if (!st) return;
        var el = document.getElementById('status');
        if (el) el.textContent = st.status;
        var pr = document.getElementById('progress'), p = st.progress || {};
        if (pr && p.step) {
          pr.firstChild.textContent = 'Step: ' + p.step + (p.count ? ' ' + p.count + (p.total ? ' of ' + p.total + ' objects' : '') : '') + '. ';
        }
        if (!busy(st.status)) { clearInterval(timer); window.location.reload(); }
      })
      .catch(function () {});
  }, 1500);
})();
