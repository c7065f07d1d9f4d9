"""About: what lip reading is for, how LipNet reads, and what this demo can and cannot do."""

import streamlit as st

from lipnet_core.demo.explain import data_path_dot

st.title("Reading lips with LipNet")
st.markdown(
    """
**Lip reading** turns the movement of a speaker's mouth into text, with no sound at all. It is an accessibility
aid for people who are deaf or hard of hearing, and it works where a microphone cannot: a noisy factory floor or
street, a silent library, a video call on mute, footage without audio.

**LipNet** (Assael, Shillingford, Whiteson and de Freitas, 2016) reads a whole sentence from video, end to end:
"""
)
st.markdown(
    """
1. **Spatiotemporal convolutions.** Three 3-D convolutions slide over the mouth crop in height, width *and time*,
   so they see how the lips move from frame to frame, not only their shape.
2. **Bidirectional recurrent layers.** Two bidirectional LSTMs read the sequence of frame features forwards and
   backwards, so each frame's guess can use what comes before and after it.
3. **Per-frame character probabilities.** For every frame (25 per second) a softmax gives the probability of
   each of 41 classes: the letters, digits, apostrophe, `?`, `!`, space, a padding class and the CTC *blank*.
4. **CTC (connectionist temporal classification)** turns those frame-by-frame guesses into text. Training with
   the CTC loss needs no frame-by-frame labels, only the sentence.
"""
)
st.markdown("**The data path, from clip to text** (T frames; *Try it out* shows each step on a real clip):")
st.graphviz_chart(data_path_dot("LR"), width="stretch")
with st.container(border=True):
    st.markdown(
        """
**What the blank token does.** A sentence has fewer letters than the clip has frames, and a mouth holds a shape
for several frames. CTC lets the network write a letter again and again, or write *blank* (“nothing new here”).
Decoding then **merges repeated letters and drops the blanks**:
`bb·ii·nn··␣␣bll·uuee` → `b·i·n·␣bl·ue` → `bin blue`. A blank *between* two equal letters keeps both, which is
how CTC can spell the double *e* of “green”. The heat map on *Try it out* shows this on a real clip.
"""
    )

st.header("The GRID corpus")
st.markdown(
    """
The network learns from the **GRID audio-visual sentence corpus**: 34 speakers each saying 1,000 short sentences
in front of a camera, at 25 frames per second. Every sentence follows one six-word grammar:

| command | colour | preposition | letter | digit | adverb |
|---|---|---|---|---|---|
| bin, lay, place, set | blue, green, red, white | at, by, in, with | a–z except w | zero – nine | again, now, please, soon |

for example **“bin blue at f two now”**: 4 × 4 × 4 × 25 × 10 × 4 = 64,000 possible sentences.

> M. Cooke, J. Barker, S. Cunningham, X. Shao, “An audio-visual corpus for speech perception and automatic speech
> recognition”, *The Journal of the Acoustical Society of America* 120(5), 2006. Licensed CC BY 4.0.
"""
)

st.header("Honest limits")
st.warning(
    "This model was trained on **one GRID speaker (speaker 1)**. It reads **GRID sentences**, not free speech: it "
    "only knows the 51 words above, the way speaker 1 says them, filmed the way GRID was filmed. Speaker 1's "
    "held-out clips are its best case (*Metrics* shows how it does there, measured); expect it to do worse on other "
    "people, other words and other cameras.",
    icon=":material/warning:",
)
st.caption(
    "Paper: Y. M. Assael, B. Shillingford, S. Whiteson, N. de Freitas, “LipNet: End-to-End Sentence-level "
    "Lipreading”, arXiv:1611.01599, 2016."
)
