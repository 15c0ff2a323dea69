// The kiosk's "scan" button: where the browser has BarcodeDetector and a camera, it reads
// the QR of the patient's page with the front camera and sends what it says as the code
// field, as a handheld scanner would type it. Elsewhere the button stays hidden.
(() => {
  "use strict";
  const LOOK_EVERY_MS = 250;
  const GIVE_UP_MS = 60000; // a camera left on shows the room to nobody
  const button = document.getElementById("scan");
  const video = document.getElementById("scan-video");
  const field = document.getElementById("code");
  if (!button || !video || !field || !("BarcodeDetector" in window)) return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  button.hidden = false;

  const stop = (stream) => {
    stream.getTracks().forEach((track) => track.stop());
    video.hidden = true;
    button.disabled = false;
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } });
    } catch {
      button.disabled = false;
      return;
    }
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    const until = Date.now() + GIVE_UP_MS;
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const look = async () => {
      const found = await detector.detect(video).catch(() => []);
      if (found.length > 0) {
        stop(stream);
        field.value = found[0].rawValue;
        field.form.requestSubmit();
      } else if (Date.now() < until) {
        setTimeout(look, LOOK_EVERY_MS);
      } else {
        stop(stream);
      }
    };
    look();
  });
})();
