"""course.results: recorded values, and prose that can quote only what was recorded."""
import pytest

from course import results


def test_record_keeps_the_value_and_say_quotes_it(capsys):
    results.record("t_acc", 0.9731, "test accuracy")
    results.record("t_params", 61706)
    assert results.RECORDED["t_acc"] == 0.9731
    assert results.say("LeNet reaches {t_acc:.1%} with {t_params:,} parameters.") is None
    out = capsys.readouterr().out
    assert "test accuracy: 0.9731" in out and "t_params: 61,706" in out
    assert "LeNet reaches 97.3% with 61,706 parameters." in out
    assert results.quoted_names("{a:.1%} and {b} and {c[0]}") == ["a", "b", "c"]


def test_say_refuses_a_value_nothing_recorded():
    with pytest.raises(KeyError, match="never_recorded"):
        results.say("The run got {never_recorded:.1%}.")
    results.say("explicit {x}", x=3)  # a keyword value is allowed (a computed one, in code)


def test_record_refuses_values_a_test_could_not_read():
    with pytest.raises(TypeError):
        results.record("bad", object())
