// A webcam recorder for one sentence: live preview, a 3-2-1 countdown, a fixed-length recording, replay.
// The recording reaches Python once, as the trigger value "clip": {take, mime, data (base64)}.
const COUNTDOWN_SECONDS = 3;

function preferredType() {
  const types = ["video/webm;codecs=vp8", "video/webm", "video/mp4"];
  return types.find((type) => window.MediaRecorder && MediaRecorder.isTypeSupported(type)) || "";
}

function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const root = parentElement.querySelector(".recorder");
  const preview = root.querySelector(".preview");
  const replay = root.querySelector(".replay");
  const button = root.querySelector(".record");
  const status = root.querySelector(".status");
  const countdown = root.querySelector(".countdown");
  const seconds = Number(data?.seconds) || 3;
  const sentence = data?.sentence || "";
  if (root.dataset.sentence !== sentence) {  // a new sentence: forget the last take's replay
    root.dataset.sentence = sentence;
    root.querySelector(".sentence").textContent = sentence;
    replay.hidden = true;
    replay.removeAttribute("src");
    if (root.dataset.ready && !button.disabled) status.textContent = "Camera on. Press the button, then say it.";
  }
  if (!root.classList.contains("recording")) {
    button.textContent = data?.recorded ? "Record again" : `Record ${seconds} s`;
  }

  if (root.dataset.ready) return;  // called again on every rerun: the camera and the handlers are already set up
  root.dataset.ready = "1";
  let stream = null;
  let take = 0;

  const startCamera = async () => {
    if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
      status.textContent = "This browser cannot record video here; upload a clip instead.";
      button.disabled = true;
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      preview.srcObject = stream;
      status.textContent = "Camera on. Face it, well lit, then press the button and say the sentence.";
      button.disabled = false;
    } catch (error) {
      status.textContent = `No camera (${error.name}): allow the camera in the browser, or upload a clip instead.`;
      button.disabled = true;
    }
  };

  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  button.onclick = async () => {
    if (!stream) return;
    button.disabled = true;
    for (let left = COUNTDOWN_SECONDS; left > 0; left -= 1) {
      countdown.textContent = String(left);
      await wait(1000);
    }
    countdown.textContent = "● speak";
    root.classList.add("recording");
    const type = preferredType();
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks = [];
    recorder.ondataavailable = (event) => event.data.size && chunks.push(event.data);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start();
    await wait(seconds * 1000);
    recorder.stop();
    await stopped;
    root.classList.remove("recording");
    countdown.textContent = "";
    const blob = new Blob(chunks, { type: recorder.mimeType || type || "video/webm" });
    replay.src = URL.createObjectURL(blob);
    replay.hidden = false;
    status.textContent = `Recorded ${seconds} s: replay it on the right; record again if it went wrong.`;
    take += 1;
    setTriggerValue("clip", { take, mime: blob.type, data: await base64Of(blob) });
    button.textContent = "Record again";
    button.disabled = false;
  };

  startCamera();
}
