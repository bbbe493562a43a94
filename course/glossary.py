"""The EN / PL / RU glossary table that ends every lecture.

    from course.glossary import glossary
    glossary(["convolution", "kernel", ("feature map", "mapa cech", "карта признаков")])

A row is a known English term (looked up in :data:`TERMS`), a tuple ``(en, pl, ru)`` or a
dict with keys ``en``, ``pl``, ``ru``. The result is an ``IPython.display.HTML`` table
(it renders in JupyterLab and on the static notes site; its text form is a plain table).
"""
from html import escape

# Terms shared by several lectures; a lecture passes tuples for anything else.
TERMS = {
    "convolution": ("splot (konwolucja)", "свёртка"),
    "cross-correlation": ("korelacja wzajemna", "взаимная корреляция"),
    "kernel": ("jądro", "ядро"),
    "filter": ("filtr", "фильтр"),
    "feature map": ("mapa cech", "карта признаков"),
    "channel": ("kanał", "канал"),
    "padding": ("uzupełnianie przy krawędziach (dopełnienie, padding)", "заполнение (паддинг)"),
    "stride": ("krok", "шаг"),
    "dilation": ("dylatacja (rozrzedzenie)", "растяжение (дилатация)"),
    "pooling": ("redukcja (pooling)", "субдискретизация (пулинг)"),
    "max pooling": ("redukcja maksymalna (max pooling)", "макс-пулинг"),
    "average pooling": ("redukcja uśredniająca", "усредняющий пулинг"),
    "receptive field": ("pole recepcyjne (receptywne)", "рецептивное поле"),
    "weight sharing": ("współdzielenie wag", "разделение весов"),
    "locality": ("lokalność", "локальность"),
    "translation equivariance": ("ekwiwariancja względem przesunięć (przenoszenie przesunięcia)",
                                 "эквивариантность к сдвигу"),
    "translation invariance": ("niezmienniczość względem przesunięć",
                               "инвариантность к сдвигу"),
    "fully connected layer": ("warstwa w pełni połączona", "полносвязный слой"),
    "multilayer perceptron": ("perceptron wielowarstwowy", "многослойный перцептрон"),
    "parameter": ("parametr", "параметр"),
    "weight": ("waga", "вес"),
    "bias": ("wyraz wolny (bias)", "смещение"),
    "activation function": ("funkcja aktywacji", "функция активации"),
    "edge detector": ("detektor krawędzi", "детектор границ"),
    "batch": ("minipaczka (wsad)", "мини-батч (пакет)"),
    "tensor": ("tensor", "тензор"),
    "dropout": ("dropout (porzucanie)", "дропаут (прореживание)"),
    "overfitting": ("przeuczenie (nadmierne dopasowanie)", "переобучение"),
    "flattening": ("spłaszczanie", "преобразование в вектор (flatten)"),
    "image": ("obraz", "изображение"),
    "pixel": ("piksel", "пиксель"),
    "output size": ("rozmiar wyjścia", "размер выхода"),
    "zero padding": ("uzupełnianie zerami", "заполнение нулями"),
    # PyTorch's 'reflect' mirrors WITHOUT repeating the edge; seed 002's "uzupełnianie z
    # odbiciem" repeats it (numpy's 'symmetric'): two different modes, named apart.
    "reflection padding": ("odbicie bez powtórzenia krawędzi (PyTorch 'reflect'; to nie "
                           "'uzupełnianie z odbiciem', które powtarza krawędź)",
                           "зеркальное заполнение без повтора края (reflect)"),
    "symmetric padding": ("uzupełnianie z odbiciem (symetryczne, z powtórzeniem krawędzi)",
                          "симметричное заполнение (с повтором края)"),
    "replication padding": ("uzupełnianie sąsiadem (powielanie krawędzi)", "заполнение повтором края"),
    "circular padding": ("uzupełnianie z zawinięciem (cykliczne)", "циклическое заполнение"),
    "1x1 convolution": ("splot 1x1", "свёртка 1x1"),
    "global average pooling": ("globalna redukcja uśredniająca", "глобальный усредняющий пулинг"),
    "downsampling": ("zmniejszanie rozdzielczości", "понижение разрешения"),
    "batch normalization": ("normalizacja wsadu", "пакетная нормализация"),
    "learning rate": ("współczynnik uczenia", "скорость обучения"),
    "transfer learning": ("transfer wiedzy", "перенос обучения"),
    "fine-tuning": ("dostrajanie", "дообучение (тонкая настройка)"),
    "residual connection": ("połączenie rezydualne", "остаточная связь"),
    "data augmentation": ("augmentacja danych", "аугментация данных"),
    "regularization": ("regularyzacja", "регуляризация"),
    "convolutional neural network": ("sieć konwolucyjna (splotowa sieć neuronowa)",
                                     "свёрточная нейронная сеть"),
    "relu": ("ReLU (prostowana jednostka liniowa)", "ReLU (выпрямленная линейная функция)"),
    "leaky relu": ("Leaky ReLU (ReLU z przeciekiem)", "Leaky ReLU (ReLU с утечкой)"),
    "backpropagation": ("propagacja wsteczna", "обратное распространение ошибки"),
    "epoch": ("epoka", "эпоха"),
    "gradient": ("gradient", "градиент"),
    "nchw": ("NCHW (wsad, kanały, wysokość, szerokość)", "NCHW (батч, каналы, высота, ширина)"),
    "im2col": ("im2col (rozwinięcie okien w kolumny)", "im2col (развёртка окон в столбцы)"),
    "bottleneck block": ("blok z wąskim gardłem (bottleneck)", "bottleneck-блок (блок с сужением)"),
    "one-cycle schedule": ("harmonogram jednego cyklu (one-cycle)",
                           "расписание одного цикла (one-cycle)"),
    "elastic net": ("regularyzacja elastic net (L1 + L2)", "регуляризация elastic net (L1 + L2)"),
    "forward hook": ("funkcja przechwytująca przejścia w przód (forward hook)",
                     "перехватчик прямого прохода (forward hook)"),
    "non-linearity": ("nieliniowość", "нелинейность"),
    "weight initialization": ("inicjalizacja wag", "инициализация весов"),
    "groups (grouped convolution)": ("splot grupowy (groups)", "групповая свёртка (groups)"),
}


def term_row(row) -> tuple[str, str, str]:
    """One glossary row as (en, pl, ru) from a known term, a tuple or a dict."""
    if isinstance(row, str):
        key = row.strip().lower()
        if key not in TERMS:
            raise KeyError(f"{row!r} is not in course.glossary.TERMS: pass (en, pl, ru)")
        return (row, *TERMS[key])
    if isinstance(row, dict):
        return (row["en"], row["pl"], row["ru"])
    en, pl, ru = row
    return (en, pl, ru)


class GlossaryTable:
    """Rich display object: HTML in notebooks and on the site, aligned text elsewhere."""

    def __init__(self, rows, title: str = "Glossary"):
        self.rows = [term_row(r) for r in rows]
        self.title = title

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{h}</th>"
                       for h in ("English", "Polski", "Русский"))
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(c)}</td>"
                                          for c in row) + "</tr>" for row in self.rows)
        return (f"<b>{escape(self.title)}</b><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        table = [("English", "Polski", "Русский"), *self.rows]
        widths = [max(len(r[i]) for r in table) for i in range(3)]
        lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in table]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return f"{self.title}\n" + "\n".join(lines)


def glossary(rows, title: str = "Glossary") -> GlossaryTable:
    """The EN / PL / RU table of a lecture's terms (display it as a cell's last expression)."""
    return GlossaryTable(rows, title=title)
