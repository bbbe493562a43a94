"""The review questions that close seed 003 (the book chapter on CNNs), in our own words.

Each lecture's self-check answers some of them: a sealed question lists the ids it covers
(``covers=["S003-05"]``), and a test checks that every conceptual one is covered by at
least one lecture, in the lecture given here. The practical ones (tooling exercises of the
book's own library) are listed with ``lecture=None`` and the reason.
"""

# id: (lecture that covers it, the question paraphrased)
SEED003_REVIEW = {
    "S003-01": ("01", "What is a feature?"),
    "S003-02": ("02", "Write the kernel of a top-edge detector."),
    "S003-03": ("02", "What does a 3x3 kernel compute at one pixel of an image?"),
    "S003-04": ("02", "What does a kernel give on a 3x3 patch of zeros?"),
    "S003-05": ("03", "What is padding?"),
    "S003-06": ("03", "What is stride?"),
    "S003-07": (None, "Write a nested list comprehension (a Python exercise, not about CNNs)."),
    "S003-08": ("02", "What shapes do input and weight have in PyTorch's 2-D convolution?"),
    "S003-09": ("02", "What is a channel?"),
    "S003-10": ("02", "How is a convolution related to a matrix product?"),
    "S003-11": ("01", "What is a convolutional neural network?"),
    "S003-12": ("05", "Why factor a repeated block of layers into a function of its own?"),
    "S003-13": ("05", "What does Flatten do, and where must it go in an MNIST CNN?"),
    "S003-14": ("02", "What does NCHW stand for?"),
    "S003-15": ("05", "Why does the third layer of the MNIST CNN cost 7*7*(1168-16) multiplications?"),
    "S003-16": ("04", "What is a receptive field?"),
    "S003-17": ("04", "How large is the receptive field after two stride-2 3x3 convolutions, and why?"),
    "S003-18": (None, "Trace precedents in the book's spreadsheet (a tool exercise)."),
    "S003-19": (None, "Browse the authors' social-media reading list (not a question about CNNs)."),
    "S003-20": ("02", "How is a colour image represented as a tensor?"),
    "S003-21": ("02", "How does a convolution work on a colour input?"),
    "S003-22": (None, "Which method of the book's data loaders shows a batch (library-specific)."),
    "S003-23": ("05", "Why double the number of filters after each stride-2 convolution?"),
    "S003-24": ("05", "Why does the first convolution on MNIST use a larger kernel?"),
    "S003-25": ("06", "What does the activation-statistics recorder keep for each layer?"),
    "S003-26": (None, "How to reach a callback of the book's Learner after training (library-specific)."),
    "S003-27": ("06", "Which three statistics does the layer-statistics plot show, and what is its x axis?"),
    "S003-28": ("06", "Why are activations near zero a problem?"),
    "S003-29": ("06", "What are the upsides and downsides of larger batches?"),
    "S003-30": ("06", "Why avoid a high learning rate at the start of training?"),
    "S003-31": ("06", "What is one-cycle training?"),
    "S003-32": ("06", "What are the benefits of training with a high learning rate?"),
    "S003-33": ("06", "Why use a low learning rate at the end of training?"),
    "S003-34": ("06", "What is cyclical momentum?"),
    "S003-35": ("06", "What records the hyperparameters (and losses) during training?"),
    "S003-36": ("06", "What does one column of pixels of the colourful-dimension plot show?"),
    "S003-37": ("06", "What does bad training look like in the colourful-dimension plot, and why?"),
    "S003-38": ("06", "Which trainable parameters does a batch-normalization layer have?"),
    "S003-39": ("06", "Which statistics does batch norm use in training, and which in evaluation?"),
    "S003-40": ("06", "Why do models with batch normalization generalize better?"),
}


def conceptual() -> dict:
    """The review questions a lecture must cover: id -> lecture."""
    return {qid: lec for qid, (lec, _text) in SEED003_REVIEW.items() if lec is not None}


def for_lecture(lecture: str) -> dict:
    """id -> paraphrase of the review questions ``lecture`` ("01".."10") must cover."""
    return {qid: text for qid, (lec, text) in SEED003_REVIEW.items() if lec == lecture}
