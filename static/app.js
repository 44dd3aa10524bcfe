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
