"""A python3 job: adds up a list of numbers (Racetrack's adder sample, written afresh)."""


class AdderModel:
    """Adds numbers."""

    def perform(self, numbers: list[float]) -> float:
        """
        Return the sum of the numbers.
        :param numbers: the numbers to add up.
        :return: their sum.
        """
        return sum(numbers)

    def docs_input_example(self) -> dict:
        """An example input shown in /docs."""
        return {"numbers": [40, 2]}
