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

// A project that is connecting or syncing: follow its status without reloading by hand. The
// page stays correct without JS ("Reload to follow"); this only saves the click.
(function () {
  var card = document.getElementById('status-card');
  if (!card) return;
  var busy = function (s) { return s === 'PENDING' || s === 'SYNCING'; };
  var connecting = function (c) { return !!c && (c.state === 'queued' || c.state === 'running'); };
  var wasConnecting = card.getAttribute('data-connecting') === '1';
  if (!busy(card.getAttribute('data-status')) && !wasConnecting) return;
  var hints = card.querySelectorAll('.nojs-hint');
  for (var i = 0; i < hints.length; i++) hints[i].textContent = 'Updating as it runs…';
  // The same words as connect_step_text() in src/web/page-projects.c.
  var stepText = function (c) {
    if (c.state === 'queued') return 'Waiting for a worker…';
    if (c.step === 'checking') return c.mode === 'create' ? 'Checking that the name is free on GitHub…' : 'Checking the repository on GitHub…';
    if (c.step === 'creating') return 'Creating the repository on GitHub…';
    if (c.step === 'linking') return 'Linking it to this project…';
    return 'Starting…';
  };
  var timer = setInterval(function () {
    fetch(card.getAttribute('data-status-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) {
        if (!st) return;
        if (wasConnecting) {
          // Connected (the initial sync follows) or failed: the page has more to show than a line.
          if (!connecting(st.connection)) { clearInterval(timer); window.location.reload(); return; }
          var cs = document.getElementById('connect-step'), cn = document.getElementById('connect-note');
          if (cs) cs.textContent = stepText(st.connection);
          if (cn) cn.textContent = st.connection.error ? '(' + st.connection.error + ')' : '';
          return;
        }
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

// The "Link an existing repository" list while a job reads it from GitHub: reload once it is in.
// Without JS the page offers a reload link instead.
(function () {
  var list = document.getElementById('repo-list');
  if (!list || list.getAttribute('data-refreshing') !== '1') return;
  var hints = list.querySelectorAll('.nojs-hint');
  for (var i = 0; i < hints.length; i++) hints[i].textContent = '';
  var tries = 0;
  var timer = setInterval(function () {
    if (++tries > 200) { clearInterval(timer); return; }
    fetch(list.getAttribute('data-poll-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.status === 200 || r.status === 202 || r.status >= 400 ? r.json().then(function (j) { return { status: r.status, body: j }; }) : null; })
      .then(function (res) {
        if (!res) return;
        if (res.status >= 400 || (res.body && res.body.state !== 'refreshing')) { clearInterval(timer); window.location.reload(); }
      })
      .catch(function () {});
  }, 1500);
})();

// Settings: the commit message preview follows typing, with the same placeholders as
// projects_render_message() in src/service/projects.c (the server's preview shows the saved template).
(function () {
  var input = document.getElementById('tmpl'), out = document.getElementById('tmpl-preview');
  if (!input || !out) return;
  var render = function () {
    var ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    var vals = { '{{project}}': input.getAttribute('data-project') || '', '{{timestamp}}': ts,
      '{{files_changed}}': '3', '{{user}}': input.getAttribute('data-user') || '' };
    out.textContent = input.value.replace(/\{\{(project|timestamp|files_changed|user)\}\}/g, function (m) { return vals[m]; });
  };
  input.addEventListener('input', render);
  var note = document.getElementById('tmpl-preview-note');
  if (note) note.textContent = '(follows your typing)';
})();

// Destructive forms (data-confirm): a dialog says what will happen and asks first; confirming sends the
// form with confirm=1. Without JavaScript the server answers the same form with a confirm page instead.
// {method} in the text is the chosen merge method; data-confirm-delete is added when its checkbox is on.
(function () {
  var dialog = null, pending = null;
  var build = function () {
    dialog = document.createElement('dialog');
    dialog.className = 'confirm-dialog';
    dialog.setAttribute('aria-labelledby', 'confirm-dialog-text');
    var p = document.createElement('p');
    p.id = 'confirm-dialog-text';
    var actions = document.createElement('p');
    actions.className = 'confirm-actions';
    var yes = document.createElement('button');
    yes.type = 'button';
    yes.className = 'danger';
    yes.id = 'confirm-dialog-yes';
    var no = document.createElement('button');
    no.type = 'button';
    no.id = 'confirm-dialog-no';
    no.textContent = 'Cancel';
    actions.appendChild(yes);
    actions.appendChild(document.createTextNode(' '));
    actions.appendChild(no);
    dialog.appendChild(p);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);
    // Saying no puts a role select back on the role the member has: the page shows what is so.
    var undo = function () {
      var cur = pending && pending.getAttribute('data-confirm-if-lower'), rs = pending && pending.querySelector('select[name=role]');
      if (cur !== null && cur !== undefined && rs) rs.value = cur;
      pending = null;
    };
    no.addEventListener('click', function () { undo(); dialog.close(); });
    dialog.addEventListener('cancel', undo);
    yes.addEventListener('click', function () {
      var form = pending;
      pending = null;
      dialog.close();
      if (!form) return;
      var c = document.createElement('input');
      c.type = 'hidden';
      c.name = 'confirm';
      c.value = '1';
      form.appendChild(c);
      form.submit();
    });
  };
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form || !form.hasAttribute || !form.hasAttribute('data-confirm')) return;
    if (form.querySelector('input[name=confirm][type=hidden]')) return;
    // data-confirm-if-lower (a member's role form): only a role below the current one asks; {role} names it.
    var ask = form.getAttribute('data-confirm');
    var cur = form.getAttribute('data-confirm-if-lower');
    if (cur !== null) {
      var rs = form.querySelector('select[name=role]'), ci = -1;
      for (var i = 0; rs && i < rs.options.length; i++) if (rs.options[i].value === cur) ci = i;
      if (!rs || rs.selectedIndex < 0 || rs.selectedIndex >= ci) return;
      ask = ask.replace('{role}', rs.options[rs.selectedIndex].text);
    }
    if (typeof HTMLDialogElement !== 'function') {
      // No <dialog>: the browser's own question; cancelling keeps the page as it is.
      if (!window.confirm(ask)) ev.preventDefault();
      else {
        var c = document.createElement('input');
        c.type = 'hidden'; c.name = 'confirm'; c.value = '1';
        form.appendChild(c);
      }
      return;
    }
    ev.preventDefault();
    if (!dialog) build();
    var text = ask;
    var sel = form.querySelector('select[name=method]');
    if (sel && sel.selectedIndex >= 0) text = text.replace('{method}', sel.options[sel.selectedIndex].text);
    var del = form.querySelector('input[name=delete_branch]');
    if (del && del.checked && form.getAttribute('data-confirm-delete')) text += ' ' + form.getAttribute('data-confirm-delete');
    document.getElementById('confirm-dialog-text').textContent = text;
    document.getElementById('confirm-dialog-yes').textContent = form.getAttribute('data-confirm-button') || 'Confirm';
    pending = form;
    dialog.showModal();
    document.getElementById('confirm-dialog-no').focus();
  });
})();

// A form shown again with errors: focus goes to the first field marked invalid (its message is tied to it
// with aria-describedby), so a keyboard or screen reader user lands where the fix is needed.
(function () {
  var first = document.querySelector('[aria-invalid="true"]');
  if (first && typeof first.focus === 'function') first.focus();
})();

// The editor: leaving with text that differs from what the page was opened with asks first (a save
// or an explicit "discard mine" does not). Without JS nothing asks; the server still refuses a stale save.
(function () {
  var ta = document.querySelector('textarea[data-unsaved-guard]');
  if (!ta) return;
  var leaving = false;
  var form = ta.form;
  if (form) form.addEventListener('submit', function () { leaving = true; });
  document.addEventListener('click', function (ev) {
    if (ev.target.closest && ev.target.closest('[data-discard]')) leaving = true;
  });
  window.addEventListener('beforeunload', function (ev) {
    if (leaving || ta.value === ta.defaultValue) return;
    ev.preventDefault();
    ev.returnValue = '';
  });
})();
